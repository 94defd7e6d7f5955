"""The operator's controls over which table is in force: push, shadow, canary, promote, roll back.

Every change builds a new immutable `Stage` and swaps it in with one assignment,
so a request always sees one consistent stage, and a table that failed to load
never reaches here (plan files are validated and compiled before `push`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.core.decision import DecisionTable
from gateway.request_path.canary import CanaryController, CanaryPolicy
from gateway.request_path.shadow import ShadowRecorder

DIRECT = "direct"
SHADOW = "shadow"
CANARY = "canary"
MODES = (DIRECT, SHADOW, CANARY)
HISTORY_LIMIT = 20


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
        return "none"


@dataclass(frozen=True)
class RolloutEvent:
    """Something that changed the stage, for the record: what, which versions, and why."""

    action: str
    active_version: str
    candidate_version: str | None
    reason: str
    at: float = 0.0


class RolloutError(Exception):
    """An operation that makes no sense in the current stage (promote with no candidate, ...)."""


@dataclass
class Rollout:
    """Holds the stage in force and the tables it replaced, for rollbacks."""

    stage: Stage
    history: list[DecisionTable] = field(default_factory=list)
    events: list[RolloutEvent] = field(default_factory=list)

    @classmethod
    def of(cls, table: DecisionTable) -> Rollout:
        return cls(Stage(table))

    @property
    def active(self) -> DecisionTable:
        return self.stage.active

    def push(
        self,
        table: DecisionTable,
        mode: str = DIRECT,
        canary: CanaryPolicy | None = None,
        reason: str = "",
        at: float = 0.0,
    ) -> None:
        """Put `table` in force (direct) or beside the active one as a shadow or canary candidate."""
        check_same_parties(self.stage.active, table)
        if mode == DIRECT:
            self._remember(self.stage.active)
            self.stage = Stage(table)
        elif mode == SHADOW:
            self.stage = Stage(self.stage.active, table, shadow=ShadowRecorder(table.version))
        elif mode == CANARY:
            self.stage = Stage(self.stage.active, table, canary=CanaryController(canary or CanaryPolicy()))
        else:
            raise RolloutError(f"unknown mode {mode!r}; use {', '.join(MODES)}")
        self._log(f"push:{mode}", reason, at)

    def promote(self, reason: str = "", at: float = 0.0) -> None:
        """Make the candidate the active table."""
        candidate = self.stage.candidate
        if candidate is None:
            raise RolloutError("nothing to promote: no candidate in shadow or canary")
        self._remember(self.stage.active)
        self.stage = Stage(candidate)
        self._log("promote", reason, at)

    def rollback(self, reason: str = "", at: float = 0.0) -> None:
        """Drop the candidate if there is one; else restore the table the last push replaced."""
        if self.stage.candidate is not None:
            self.stage = Stage(self.stage.active)
            self._log("rollback:candidate", reason, at)
            return
        if not self.history:
            raise RolloutError("nothing to roll back to")
        self.stage = Stage(self.history.pop())
        self._log("rollback", reason, at)

    def install(self, stage: Stage, action: str, reason: str = "", at: float = 0.0) -> None:
        """Put a stage decided elsewhere in force (a fleet's stage document), with one assignment."""
        self.stage = stage
        self._log(action, reason, at)

    def _remember(self, table: DecisionTable) -> None:
        self.history.append(table)
        del self.history[:-HISTORY_LIMIT]

    def _log(self, action: str, reason: str, at: float) -> None:
        candidate = self.stage.candidate.version if self.stage.candidate is not None else None
        self.events.append(RolloutEvent(action, self.stage.active.version, candidate, reason, at))


def check_same_parties(active: DecisionTable, table: DecisionTable) -> None:
    """Refuse a table that moves a client class between first- and third-party: the status
    page, the alert and the metrics count by class, and would silently mix the two."""
    parties = active.plan_set.class_parties
    for client in table.clients:
        was = parties.get(client.client_class)
        if was is not None and was != client.first_party:
            raise RolloutError(
                f"{table.version} makes class {client.client_class!r} "
                f"{'first' if client.first_party else 'third'}-party; in {active.version} it is "
                f"{'first' if was else 'third'}-party"
            )
