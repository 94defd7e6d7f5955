"""The stage in force: the table that decides requests now, and a candidate beside it in shadow or
canary, if any; and the record of the changes that put it there.

A deployment (`gateway.control_plane.deployment`) decides what the next stage is; here it is only
swapped in, with one assignment, so a request always sees one consistent stage. A table that
failed to load never gets this far (plan files are validated and compiled before a push).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.core.decision import DecisionTable
from gateway.request_path.canary import CanaryController
from gateway.request_path.shadow import ShadowRecorder

DIRECT = "direct"
SHADOW = "shadow"
CANARY = "canary"
MODES = (DIRECT, SHADOW, CANARY)
NO_CANDIDATE = "none"  # the mode of a stage with no candidate
CHANGES_KEPT = 100  # the record is for the deployment document and the status page's "recovering"


@dataclass(frozen=True)
class Stage:
    """What decides requests now: the active table, and a candidate in shadow or canary, if any."""

    active: DecisionTable
    candidate: DecisionTable | None = None
    shadow: ShadowRecorder | None = None
    canary: CanaryController | None = None

    @property
    def mode(self) -> str:
        if self.shadow is not None:
            return SHADOW
        if self.canary is not None:
            return CANARY
        return NO_CANDIDATE


@dataclass(frozen=True)
class StageChange:
    """Something that changed the stage, for the record: what, which versions, and why."""

    action: str
    active_version: str
    candidate_version: str | None
    reason: str
    at: float = 0.0


@dataclass
class StageInForce:
    """The stage requests are decided by, and the changes that led to it (the latest last)."""

    stage: Stage
    changes: list[StageChange] = field(default_factory=list)

    @classmethod
    def of(cls, table: DecisionTable) -> StageInForce:
        return cls(Stage(table))

    @property
    def active(self) -> DecisionTable:
        return self.stage.active

    def install(self, stage: Stage, action: str, reason: str = "", at: float = 0.0) -> None:
        """Put `stage` in force with one assignment, and record why."""
        self.stage = stage
        candidate = stage.candidate.version if stage.candidate is not None else None
        self.changes.append(StageChange(action, stage.active.version, candidate, reason, at))
        del self.changes[:-CHANGES_KEPT]
