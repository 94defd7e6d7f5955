"""The replay engine: a scenario's minutes on a virtual clock, every request through the real gateway.

Each virtual request is an ASGI call into `EntitlementMiddleware` in front of the
demo upstream, in process (no sockets), with the gateway's quota clock set to the
request's virtual time; so every figure comes from the real decision code.
Events (plan pushes, rollbacks, service-map changes) are applied at the start of
their minute; plan pushes go through the safety layer in force (`gateway.replay.
safety`), which may block, shadow or canary them, or page operators who roll back.
The result is a `ReplayRecord` of counts per (minute, client class, surface,
status), with the events as they happened, when the layer detected trouble, and
what the status page said at the end of each minute (under the replay's SLI and 5xx-only).
A scenario that declares a fleet is replayed on N gateways (`gateway.replay.rings`): each
request is answered by one instance's middleware, plan pushes go out ring by ring and
take the declared propagation delay to reach each instance, and the status page is the
fleet's (every instance's requests). A fleet takes safety layer "none": its rings are its layer.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.control_plane.local_deployment import LocalDeployment
from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable
from gateway.core.planfile import load_plan_set
from gateway.fronts.demo_upstream import DemoUpstream
from gateway.fronts.inprocess import http_scope, status_of
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.fronts.services import HEALTHY, ServiceMap, load_service_map
from gateway.fronts.settings import GatewaySettings
from gateway.replay.layers import IN_FORCE, ON_TRIAL, ROLLED_BACK, PushRecord, make_layer
from gateway.replay.recorded import recorded_traffic
from gateway.replay.rings import RingedFleet, RingOutcome, counted
from gateway.replay.scenario import Scenario, ScenarioEvent
from gateway.replay.traffic import Traffic, TrafficModel
from gateway.request_path.slo import State, class_statuses, overall_status

CountKey = tuple[int, str, str, int]


@dataclass(frozen=True)
class AppliedEvent:
    """An event as it happened: what was done, and which version was in force after it."""

    minute: int
    action: str
    version: str
    note: str
    by: str = "scenario"


@dataclass(frozen=True)
class StatusAtMinute:
    """What the gateway's status page said at the end of a minute, and a 5xx-only page beside it."""

    status: State
    status_5xx: State
    classes: dict[str, State]
    classes_5xx: dict[str, State]
    alert_firing: bool


@dataclass(frozen=True)
class ReplayRecord:
    """Everything a replay observed: the counts, the events and the versions in force."""

    scenario: Scenario
    seed: int
    classes: dict[str, bool]
    counts: dict[CountKey, int]
    events: tuple[AppliedEvent, ...]
    plans_by_minute: tuple[str, ...]
    services_by_minute: tuple[str, ...]
    status_by_minute: tuple[StatusAtMinute, ...]
    safety: str = "none"
    sli: str = "first-party-denials"
    detected_minute: int | None = None
    detected_by: str | None = None
    # version -> how many gateway instances ever enforced it (for any request: a canary counts)
    instances_ran: dict[str, int] = field(default_factory=dict)
    # A fleet's rings as they ran, and at each minute's end how many instances ran each version.
    rings: tuple[RingOutcome, ...] = ()
    instances_by_minute: tuple[dict[str, int], ...] = ()
    pushed_plans: tuple[str, ...] = ()  # the versions of the plan pushes, in order

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    @property
    def layer(self) -> str:
        """What kept this replay safe: the safety layer, or for a fleet its rollout."""
        fleet = self.scenario.fleet
        return f"fleet: {fleet.label}" if fleet is not None else self.safety

    @property
    def instances(self) -> int:
        fleet = self.scenario.fleet
        return fleet.size if fleet is not None else 1


class VirtualClock:
    """Seconds since the epoch, set by the engine to each request's virtual time."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class ReplayEngine:
    """One replay of one scenario with one safety layer; `run()` once."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        safety: str = "none",
        sli: str = "first-party-denials",
        traffic: Traffic | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.sli = sli
        plan_set = load_plan_set(scenario.plans)
        # The scenario's model, or `traffic` given, or its [traffic] log (gateway.replay.recorded).
        if traffic is None and scenario.traffic_log is not None:
            traffic = recorded_traffic([str(scenario.traffic_log)], scenario, plan_set)
        self.traffic: Traffic = TrafficModel(scenario, plan_set) if traffic is None else traffic
        self.client_class = {client.id: client.client_class for client in plan_set.clients}
        self.classes = plan_set.class_parties
        services = load_service_map(scenario.services) if scenario.services else HEALTHY
        self.clock = VirtualClock(scenario.start.timestamp())
        self.upstream = DemoUpstream(plan_set, services)
        initial = compile_plan_set(plan_set)
        settings = GatewaySettings.embedded(sli=sli)
        self.fleet: RingedFleet | None = None
        if scenario.fleet is not None:
            if safety != "none":
                raise ValueError(f"{scenario.source} declares a fleet: its rings are its safety layer")
            self.fleet = RingedFleet(
                scenario.fleet, lambda: settings.runtime(initial, self.clock), self.upstream, self.seed
            )
            # The layer ("none") is never asked to push; instance 0 stands for the fleet's alert rules.
            self.gateway = self.fleet.gateways[0]
            self.deployment = self.fleet.deployments[0]
        else:
            self.gateway = settings.runtime(initial, self.clock)
            self.deployment = LocalDeployment(self.gateway)
        self.front = EntitlementMiddleware(self.upstream, gateway=self.gateway, deployment=self.deployment)
        self.layer = make_layer(safety, self)
        self._enforced: dict[str, set[int]] = {}
        self._instances_by_minute: list[dict[str, int]] = []
        self.pushes: list[PushRecord] = []
        self.detected_minute: int | None = None
        self.detected_by: str | None = None
        self._tables: dict[Path, DecisionTable] = {}
        self._service_stack: list[ServiceMap] = []
        self._applied: list[AppliedEvent] = []

    async def run(self, on_minute: Callable[[int], None] | None = None) -> ReplayRecord:
        counts: Counter[CountKey] = Counter()
        plans_by_minute: list[str] = []
        services_by_minute: list[str] = []
        status_by_minute: list[StatusAtMinute] = []
        start = self.scenario.start.timestamp()
        events = list(self.scenario.events)
        # Looked up once: the loop below runs once per virtual request, 300,000 times an hour.
        clock, client_class, requests_of = self.clock, self.client_class, self.traffic.minute
        for minute in range(self.scenario.minutes):
            minute_start = start + minute * 60
            self.clock.now = minute_start
            fleet = self.fleet
            if fleet is not None:
                fleet.start_minute(minute)
            self.layer.before_minute(minute)
            while events and events[0].minute == minute:
                self._apply(events.pop(0))
            self._note_enforced()
            if fleet is None:
                plans_by_minute.append(self._plans_label())
            services_by_minute.append(self.upstream.services.version)
            front = self.front
            for request in requests_of(minute, self.seed):
                now = clock.now = minute_start + request.second
                if fleet is not None:
                    fleet.deliver_until(now)
                    front = fleet.fronts[fleet.route(request.client_id)]
                scope = http_scope(
                    request.method, request.raw_path, [(b"authorization", request.authorization)]
                )
                status = await status_of(front, scope)
                counts[(minute, client_class[request.client_id], request.surface, status)] += 1
            self.clock.now = minute_start + 60
            if fleet is not None:
                fleet.deliver_until(self.clock.now)
                self._ring_controller(minute)
                plans_by_minute.append(self._plans_label())
            self.layer.after_minute(minute)
            self._note_enforced()
            status_by_minute.append(self._status_page())
            if on_minute is not None:
                on_minute(minute)
            # The in-process calls never suspend, so yield to the loop once a minute: that is
            # where asyncio.run delivers Ctrl-C (as a cancellation) within a virtual minute.
            await asyncio.sleep(0)
        return ReplayRecord(
            scenario=self.scenario,
            seed=self.seed,
            classes=self.classes,
            counts=dict(counts),
            events=tuple(self._applied),
            plans_by_minute=tuple(plans_by_minute),
            services_by_minute=tuple(services_by_minute),
            status_by_minute=tuple(status_by_minute),
            safety=self.layer.name,
            sli=self.sli,
            detected_minute=self.detected_minute,
            detected_by=self.detected_by,
            instances_ran={version: len(ran) for version, ran in sorted(self._enforced.items())},
            rings=tuple(self.fleet.rings) if self.fleet is not None else (),
            instances_by_minute=tuple(self._instances_by_minute),
            pushed_plans=tuple(push.version for push in self.pushes if push.kind == "plans"),
        )

    def _note_enforced(self) -> None:
        """Remember which instances have enforced which tables (a canary enforces for its slice)."""
        if self.fleet is not None:
            self._enforced = self.fleet.enforced
            return
        stage = self.gateway.in_force.stage
        enforced = [stage.active]
        if stage.canary is not None and stage.candidate is not None:
            enforced.append(stage.candidate)
        for table in enforced:
            self._enforced.setdefault(table.version, set()).add(0)

    def _ring_controller(self, minute: int) -> None:
        assert self.fleet is not None
        note = self.fleet.after_minute(minute, self.clock.now)
        self._instances_by_minute.append(self.fleet.versions())
        if note is None:
            return
        if note.startswith("halt: "):
            push = next(p for p in reversed(self.pushes) if p.kind == "plans")
            push.state = ROLLED_BACK
            ring = self.fleet.rings[-1].ring
            by = f"ring controller ({ring})"
            self.record(minute, "rollback_plans", note.removeprefix("halt: "), by, self.fleet.restores)
            self.detect(minute, f"ring halt ({ring})")
        else:
            self.record(minute, "ring", note, "ring controller")

    def record(self, minute: int, action: str, note: str, by: str, version: str | None = None) -> None:
        """Log an event as it happened; `version` defaults to the plans in force afterwards."""
        self._applied.append(AppliedEvent(minute, action, version or self._plans_label(), note, by))

    def detect(self, minute: int, by: str) -> None:
        """Note the first minute at which something (a layer, an alert, users) saw the problem."""
        if self.detected_minute is None:
            self.detected_minute = minute
            self.detected_by = by

    def table(self, path: Path) -> DecisionTable:
        if path not in self._tables:
            self._tables[path] = compile_plan_set(load_plan_set(path))
        return self._tables[path]

    def roll_back_latest(self, minute: int, note: str, by: str) -> bool:
        """Undo the most recent change still in force or on trial; False when there is none."""
        for push in reversed(self.pushes):
            if push.state in (IN_FORCE, ON_TRIAL):
                self._undo(push, minute, note, by)
                return True
        return False

    def _undo(self, push: PushRecord, minute: int, note: str, by: str) -> None:
        push.state = ROLLED_BACK
        if push.kind == "plans" and self.fleet is not None:
            sent = self.fleet.roll_back(self.clock.now)
            restores = self.fleet.restores
            self.record(minute, "rollback_plans", f"{note} (sent to {counted(sent)})", by, restores)
        elif push.kind == "plans":
            self.deployment.rollback_now(reason=note)
            self.record(minute, "rollback_plans", note, by)
        else:
            self.upstream.replace_services(self._service_stack.pop())
            self.record(minute, "rollback_services", note, by, self.upstream.services.version)

    def _status_page(self) -> StatusAtMinute:
        gateway, now = self.gateway, self.clock.now
        alert = gateway.alert
        availability = self.fleet.availability if self.fleet is not None else gateway.availability
        rollback = gateway.last_rollback()
        rolled_back_at = rollback[0] if rollback is not None else None
        statuses = class_statuses(
            availability, now, alert.slo, min_requests=alert.min_requests, rolled_back_at=rolled_back_at
        )
        statuses_5xx = class_statuses(
            availability,
            now,
            alert.slo,
            only_5xx=True,
            min_requests=alert.min_requests,
            rolled_back_at=rolled_back_at,
        )
        return StatusAtMinute(
            status=overall_status(statuses),
            status_5xx=overall_status(statuses_5xx),
            classes={name: status.state for name, status in statuses.items()},
            classes_5xx={name: status.state for name, status in statuses_5xx.items()},
            alert_firing=alert.evaluate(availability, now).firing,
        )

    def _plans_label(self) -> str:
        if self.fleet is not None:
            versions = self.fleet.versions()
            if len(versions) == 1:
                return next(iter(versions))
            size = self.fleet.model.size
            return ", ".join(f"{version} on {count}/{size}" for version, count in versions.items())
        stage = self.gateway.in_force.stage
        if stage.candidate is None:
            return stage.active.version
        return f"{stage.active.version} (+{stage.mode} {stage.candidate.version})"

    def _apply(self, event: ScenarioEvent) -> None:
        if event.action == "push_plans":
            assert event.file is not None
            table = self.table(event.file)
            push = PushRecord("plans", event.minute, table.version)
            self.pushes.append(push)
            if self.fleet is not None:
                self.fleet.push(table, event.minute, self.clock.now)
                ring, size = self.fleet.rings[-1], self.fleet.model.size
                self.record(
                    event.minute,
                    "push_plans",
                    f"{event.note} (ring {ring.ring!r}: {ring.instances} of {counted(size)})",
                    "scenario",
                    table.version,
                )
                self.fleet.deliver_until(self.clock.now)
            else:
                self.layer.push_plans(push, table, event.note)
        elif event.action == "push_services":
            assert event.file is not None
            self._service_stack.append(self.upstream.services)
            self.upstream.replace_services(load_service_map(event.file))
            self.pushes.append(PushRecord("services", event.minute, self.upstream.services.version))
            self.record(event.minute, event.action, event.note, "scenario", self.upstream.services.version)
        else:
            kind = "plans" if event.action == "rollback_plans" else "services"
            latest = next((p for p in reversed(self.pushes) if p.kind == kind), None)
            if latest is not None and latest.state in (IN_FORCE, ON_TRIAL):
                self._undo(latest, event.minute, event.note, "scenario")
            else:
                state = latest.state if latest is not None else "never pushed"
                self.record(event.minute, "noop", f"{event.note}: nothing to roll back ({state})", "scenario")
