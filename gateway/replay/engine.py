"""The replay engine: a scenario's minutes on a virtual clock, every request through the real gateway.

Each virtual request is an ASGI call into `EntitlementMiddleware` in front of the
demo upstream, in process (no sockets), with the gateway's quota clock set to the
request's virtual time; so every figure comes from the real decision code.
Events (plan pushes, rollbacks, service-map changes) are applied at the start of
their minute. The result is a `ReplayRecord` of counts per (minute, client class,
surface, status).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.compiler import compile_plan_set
from gateway.decision import DecisionTable
from gateway.inprocess import http_scope, status_of
from gateway.middleware import EntitlementMiddleware
from gateway.planfile import load_plan_set
from gateway.replay.scenario import Scenario, ScenarioEvent
from gateway.replay.traffic import TrafficModel
from gateway.services import HEALTHY, ServiceMap, load_service_map
from gateway.upstream import DemoUpstream

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
class ReplayRecord:
    """Everything a replay observed: the counts, the events and the versions in force."""

    scenario: Scenario
    seed: int
    classes: dict[str, bool]
    counts: dict[CountKey, int]
    events: tuple[AppliedEvent, ...]
    plans_by_minute: tuple[str, ...]
    services_by_minute: tuple[str, ...]

    @property
    def requests(self) -> int:
        return sum(self.counts.values())


class VirtualClock:
    """Seconds since the epoch, set by the engine to each request's virtual time."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class ReplayEngine:
    """One replay of one scenario; `run()` once."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        plan_set = load_plan_set(scenario.plans)
        self.traffic = TrafficModel(scenario, plan_set)
        self.client_class = {client.id: client.client_class for client in plan_set.clients}
        self.classes = {client.client_class: client.first_party for client in plan_set.clients}
        services = load_service_map(scenario.services) if scenario.services else HEALTHY
        self.clock = VirtualClock(scenario.start.timestamp())
        self.upstream = DemoUpstream(plan_set, services)
        self.gateway = EntitlementMiddleware(self.upstream, compile_plan_set(plan_set), clock=self.clock)
        self._tables: dict[Path, DecisionTable] = {}
        self._plan_stack: list[DecisionTable] = []
        self._service_stack: list[ServiceMap] = []
        self._applied: list[AppliedEvent] = []

    async def run(self, on_minute: Callable[[int], None] | None = None) -> ReplayRecord:
        counts: Counter[CountKey] = Counter()
        plans_by_minute: list[str] = []
        services_by_minute: list[str] = []
        start = self.scenario.start.timestamp()
        events = list(self.scenario.events)
        for minute in range(self.scenario.minutes):
            while events and events[0].minute == minute:
                self._apply(events.pop(0))
            plans_by_minute.append(self.gateway.table.version)
            services_by_minute.append(self.upstream.services.version)
            minute_start = start + minute * 60
            for request in self.traffic.minute(minute, self.seed):
                self.clock.now = minute_start + request.second
                scope = http_scope(
                    request.method, request.raw_path, [(b"authorization", request.authorization)]
                )
                status = await status_of(self.gateway, scope)
                counts[(minute, self.client_class[request.client_id], request.surface, status)] += 1
            if on_minute is not None:
                on_minute(minute)
        return ReplayRecord(
            scenario=self.scenario,
            seed=self.seed,
            classes=self.classes,
            counts=dict(counts),
            events=tuple(self._applied),
            plans_by_minute=tuple(plans_by_minute),
            services_by_minute=tuple(services_by_minute),
        )

    def _apply(self, event: ScenarioEvent) -> None:
        if event.action == "push_plans":
            assert event.file is not None
            self._plan_stack.append(self.gateway.table)
            self.gateway.replace_table(self._table(event.file))
            version = self.gateway.table.version
        elif event.action == "rollback_plans":
            self.gateway.replace_table(self._plan_stack.pop())
            version = self.gateway.table.version
        elif event.action == "push_services":
            assert event.file is not None
            self._service_stack.append(self.upstream.services)
            self.upstream.replace_services(load_service_map(event.file))
            version = self.upstream.services.version
        else:
            self.upstream.replace_services(self._service_stack.pop())
            version = self.upstream.services.version
        self._applied.append(AppliedEvent(event.minute, event.action, version, event.note))

    def _table(self, path: Path) -> DecisionTable:
        if path not in self._tables:
            self._tables[path] = compile_plan_set(load_plan_set(path))
        return self._tables[path]
