"""Safety layers for the replay: what happens to a plan push, and who notices trouble, and when.

Each layer drives the gateway through the same controls an operator or a CD
pipeline would use (`gateway.request_path.stage`), and the gateway's own mechanisms do the
rest: the diff gate refuses a push that takes grants away from first-party
clients; shadow runs the candidate beside the active table and promotes it only
if no first-party request would have been refused; canary enforces it for a
slice of requests drawn in every client class (`gateway.request_path.canary`) and the
gateway's controller rolls it back on any class's error rate in the slice; alert
pushes as history did and lets the burn-rate alert page the
operators, who roll back `page_to_rollback_minutes` later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.control_plane.local_deployment import LocalDeployment
from gateway.core.decision import DecisionTable
from gateway.replay.scenario import Scenario
from gateway.request_path.canary import CanaryController, CanaryPolicy
from gateway.request_path.runtime import Gateway
from gateway.request_path.stage import CANARY, SHADOW
from gateway.safety.diff import diff_tables

LAYERS = ("none", "diff", "shadow", "canary", "alert")

# What became of a pushed change.
IN_FORCE = "in force"
ON_TRIAL = "on trial"  # in shadow or canary
BLOCKED = "blocked"
ABANDONED = "abandoned"
ROLLED_BACK = "rolled back"
SHADOW_MINUTES = 10
CANARY_BAKE_MINUTES = 10
CANARY_FRACTION = 0.1


@dataclass
class PushRecord:
    """A change the scenario pushed, and what became of it (for rollbacks and the record)."""

    kind: str
    minute: int
    version: str
    state: str = IN_FORCE


class ReplayEngine(Protocol):
    """What a layer needs of the replay that drives it (`gateway.replay.engine.ReplayEngine`)."""

    scenario: Scenario
    seed: int
    gateway: Gateway
    deployment: LocalDeployment
    detected_by: str | None

    def record(self, minute: int, action: str, note: str, by: str, version: str | None = None) -> None: ...

    def detect(self, minute: int, by: str) -> None: ...

    def roll_back_latest(self, minute: int, note: str, by: str) -> bool: ...


class SafetyLayer:
    """No safety layer: pushes go straight into force, as on 2023-03-06."""

    name = "none"

    def __init__(self, engine: ReplayEngine) -> None:
        self.engine = engine

    def push_plans(self, push: PushRecord, table: DecisionTable, note: str) -> None:
        self.engine.deployment.push_now(table, reason=note)
        self.engine.record(push.minute, "push_plans", note, "scenario")

    def before_minute(self, minute: int) -> None:
        """Called at the start of each minute, before the scenario's events."""

    def after_minute(self, minute: int) -> None:
        """Called after each minute's traffic."""


class DiffGate(SafetyLayer):
    """`gw467 diff` in the pipeline: a push that removes any first-party grant is refused."""

    name = "diff"

    def push_plans(self, push: PushRecord, table: DecisionTable, note: str) -> None:
        diff = diff_tables(self.engine.gateway.table, table)
        losses = diff.first_party_losses
        if not losses:
            super().push_plans(push, table, note)
            return
        push.state = BLOCKED
        clients = sorted({loss.client_id for loss in losses})
        self.engine.record(
            push.minute,
            "blocked",
            f"diff gate refused {table.version}: {len(losses)} first-party grants lost "
            f"({', '.join(clients)})",
            "diff gate",
        )
        self.engine.detect(push.minute, "diff gate")


class ShadowLayer(SafetyLayer):
    """The candidate is decided beside the active table for SHADOW_MINUTES, never enforced."""

    name = "shadow"

    def __init__(self, engine: ReplayEngine) -> None:
        super().__init__(engine)
        self.trial: PushRecord | None = None

    def push_plans(self, push: PushRecord, table: DecisionTable, note: str) -> None:
        self.engine.deployment.push_now(table, SHADOW, reason=note)
        push.state = ON_TRIAL
        self.trial = push
        self.engine.record(push.minute, "push_plans", f"{note} (in shadow)", "shadow")

    def after_minute(self, minute: int) -> None:
        trial = self.trial
        shadow = self.engine.gateway.in_force.stage.shadow
        if trial is None or trial.state != ON_TRIAL or shadow is None:
            return
        if shadow.first_party_losses:
            trial.state = ABANDONED
            self.engine.deployment.rollback_now(reason="shadow: first-party divergence")
            self.engine.record(
                minute,
                "abandoned",
                f"shadow saw {shadow.first_party_losses:,} first-party requests the candidate would refuse; "
                "candidate abandoned, never enforced",
                "shadow",
            )
            self.engine.detect(minute, "shadow")
        elif minute + 1 - trial.minute >= SHADOW_MINUTES:
            trial.state = IN_FORCE
            self.engine.deployment.promote_now(reason="shadow: no first-party divergence")
            self.engine.record(minute, "promote", "no first-party divergence in shadow; promoted", "shadow")


class CanaryLayer(SafetyLayer):
    """The candidate enforces for 10% of each class's requests; the gateway rolls it back on a
    class's errors in the slice. Each event after the push prints the slice's composition."""

    name = "canary"

    def __init__(self, engine: ReplayEngine) -> None:
        super().__init__(engine)
        self.trial: PushRecord | None = None
        # Salted with the seed: the slice is part of the replay's determinism, like its traffic.
        self.policy = CanaryPolicy(fraction=CANARY_FRACTION, salt=f"replay:{engine.seed}")
        self.controller: CanaryController | None = None

    def push_plans(self, push: PushRecord, table: DecisionTable, note: str) -> None:
        self.engine.deployment.push_now(table, CANARY, self.policy, reason=note)
        push.state = ON_TRIAL
        self.trial = push
        self.controller = self.engine.gateway.in_force.stage.canary
        self.engine.record(
            push.minute,
            "push_plans",
            f"{note} (canary, {self.policy.fraction:.0%} of each client class's requests)",
            "canary",
        )

    def _slice(self) -> str:
        controller = self.controller
        return f"slice: {controller.composition()}" if controller is not None else ""

    def after_minute(self, minute: int) -> None:
        trial = self.trial
        if trial is None or trial.state != ON_TRIAL:
            return
        stage = self.engine.gateway.in_force.stage
        if stage.canary is None:
            # The gateway's controller rolled the canary back during this minute.
            trial.state = ROLLED_BACK
            reason = self.engine.gateway.in_force.changes[-1].reason
            self.engine.record(minute, "rollback_plans", f"{reason}; {self._slice()}", "canary controller")
            self.engine.detect(minute, "canary controller")
        elif minute + 1 - trial.minute >= CANARY_BAKE_MINUTES:
            trial.state = IN_FORCE
            self.engine.deployment.promote_now(reason="canary healthy")
            self.engine.record(
                minute,
                "promote",
                f"canary slice healthy for {CANARY_BAKE_MINUTES} min; promoted; {self._slice()}",
                "canary",
            )


class AlertLayer(SafetyLayer):
    """Pushes go into force; the burn-rate alert pages, and operators roll back some minutes later."""

    name = "alert"

    def __init__(self, engine: ReplayEngine) -> None:
        super().__init__(engine)
        self.rollback_at: int | None = None

    def before_minute(self, minute: int) -> None:
        if self.rollback_at == minute:
            self.rollback_at = None
            self.engine.roll_back_latest(
                minute, "operators roll back the change the page points at", "operators"
            )

    def after_minute(self, minute: int) -> None:
        state = self.engine.gateway.alert_state()
        if not state.firing or self.rollback_at is not None or self.engine.detected_by == "burn-rate alert":
            return
        self.engine.detect(minute, "burn-rate alert")
        self.rollback_at = minute + 1 + self.engine.scenario.operators.page_to_rollback_minutes
        self.engine.record(
            minute,
            "page",
            f"burn-rate alert ({state.fired_by}) pages the on-call; rollback at minute {self.rollback_at}",
            "burn-rate alert",
        )


_LAYERS: dict[str, type[SafetyLayer]] = {
    layer.name: layer for layer in (SafetyLayer, DiffGate, ShadowLayer, CanaryLayer, AlertLayer)
}


def make_layer(name: str, engine: ReplayEngine) -> SafetyLayer:
    if name not in _LAYERS:
        raise ValueError(f"unknown safety layer {name!r} (use {', '.join(LAYERS)})")
    return _LAYERS[name](engine)
