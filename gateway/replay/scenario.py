"""Scenario files: a replayable hour, its traffic model, its timeline of events, its operators.

Everything a scenario names (plan files, service maps, clients, keys, endpoints)
is checked when it is loaded, so a replay never stops half-way on a bad file:
the error is one line naming the scenario file and the key at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from gateway.core.config import ConfigError, Fail, failure, parse_toml, read_text, validate_model
from gateway.core.planfile import load_plan_set, sha256_hex
from gateway.core.plans import PlanSet
from gateway.core.schemas import schema_of
from gateway.fronts.services import ServiceMap, load_service_map
from gateway.replay.rings import FleetModel, Ring

Action = Literal["push_plans", "rollback_plans", "push_services", "rollback_services"]
PUSHES = {"push_plans": "rollback_plans", "push_services": "rollback_services"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _TrafficEntry(_Strict):
    client: str
    key: Annotated[str, Field(min_length=1)]
    per_minute: Annotated[float, Field(ge=0)]
    mix: Annotated[dict[str, Annotated[float, Field(gt=0)]], Field(min_length=1)]


class _RecordedTrafficEntry(_Strict):
    """`[traffic]` as a table: a recorded gw467 decision log played as the traffic, and the key
    each of its clients is sent with (`gateway.replay.recorded`)."""

    log: Annotated[str, Field(min_length=1)]
    keys: Annotated[dict[str, Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class _EventEntry(_Strict):
    minute: Annotated[int, Field(ge=0)]
    action: Action
    file: str | None = None
    note: str = ""


class _LoadEntry(_Strict):
    shape: list[Annotated[list[float], Field(min_length=2, max_length=2)]] = [[0, 1.0]]


class _OperatorsEntry(_Strict):
    user_reports_after_minutes: Annotated[int, Field(ge=0)] = 5
    page_to_rollback_minutes: Annotated[int, Field(ge=0)] = 10


class _RingEntry(_Strict):
    name: Annotated[str, Field(min_length=1)]
    internal: bool = False
    percent: Annotated[float, Field(gt=0, le=100)] | None = None
    bake_minutes: Annotated[int, Field(ge=0)] = 10


class _FleetEntry(_Strict):
    instances: Annotated[int, Field(gt=0, le=1000)]
    internal_instances: Annotated[int, Field(ge=0, le=100)] = 0
    internal_clients: list[str] = []
    internal_share: Annotated[float, Field(gt=0, lt=1)] = 0.01
    propagation_seconds: Annotated[float, Field(ge=0, le=3600)] = 0.0
    halt_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.01
    halt_min_requests: Annotated[int, Field(ge=1)] = 20
    rings: Annotated[list[_RingEntry], Field(min_length=1)] = [_RingEntry(name="everywhere", percent=100)]


class _ScenarioFile(_Strict):
    schema_: Literal[1] = Field(default=1, alias="schema")
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    title: str
    description: str = ""
    start: datetime
    timezone: Annotated[str, Field(min_length=1, max_length=8)] = "UTC"
    minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    seed: int = 0
    plans: str
    services: str | None = None
    impact_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.01
    load: _LoadEntry = _LoadEntry()
    operators: _OperatorsEntry = _OperatorsEntry()
    traffic: Annotated[list[_TrafficEntry], Field(min_length=1)]
    events: list[_EventEntry] = []
    fleet: _FleetEntry | None = None


class _RecordedScenarioFile(_ScenarioFile):
    """A scenario whose `[traffic]` is a table naming a recorded log (read with this model only
    then, so a [[traffic]] model's errors name its own fields)."""

    traffic: _RecordedTrafficEntry  # type: ignore[assignment]


@dataclass(frozen=True)
class TrafficSource:
    """One client's traffic: a rate per virtual minute and an endpoint mix (weights)."""

    client_id: str
    key: str
    per_minute: float
    mix: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class ScenarioEvent:
    minute: int
    action: str
    file: Path | None
    note: str


@dataclass(frozen=True)
class OperatorModel:
    """How humans respond: user reports reach them, and a page becomes a rollback, this late."""

    user_reports_after_minutes: int
    page_to_rollback_minutes: int


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    source: str
    start: datetime
    timezone: str
    minutes: int
    seed: int
    plans: Path
    services: Path | None
    impact_threshold: float
    load_shape: tuple[tuple[int, float], ...]
    operators: OperatorModel
    traffic: tuple[TrafficSource, ...]
    events: tuple[ScenarioEvent, ...]
    fleet: FleetModel | None = None
    # A recorded decision log played as the traffic (`[traffic] log`), instead of the model.
    traffic_log: Path | None = None

    def load_factor(self, minute: int) -> float:
        """The traffic multiplier at `minute`, linear between the shape's points."""
        points = self.load_shape
        if minute <= points[0][0]:
            return points[0][1]
        for (m0, f0), (m1, f1) in pairwise(points):
            if m0 <= minute <= m1:
                return f0 + (f1 - f0) * (minute - m0) / (m1 - m0)
        return points[-1][1]


def json_schema() -> dict[str, Any]:
    """The scenario file's JSON Schema: `[[traffic]]` entries (the model) or a `[traffic]` table
    (a recorded log), as `load_scenario` reads one or the other."""
    return schema_of(
        TypeAdapter(_ScenarioFile | _RecordedScenarioFile),
        "gw467 scenario file",
        "An hour or two replayed on a virtual clock by `gw467 replay`: plans, traffic, events, fleet.",
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file and everything it refers to; ConfigError on any problem."""
    source = str(path)
    document = parse_toml(read_text(path), source)
    model = _RecordedScenarioFile if isinstance(document.get("traffic"), dict) else _ScenarioFile
    entry = validate_model(model, document, source)
    if entry.start.tzinfo is None:
        raise ConfigError(source, "start", "give a UTC offset, e.g. 2023-03-06T08:45:00-08:00")
    base = Path(path).parent

    fail = failure(source)
    plans_path = base / entry.plans
    initial = _referenced_plans(plans_path, "plans", fail)
    services_path = base / entry.services if entry.services else None
    if services_path is not None:
        _referenced_services(services_path, "services", fail)
    traffic_log = None
    if isinstance(entry.traffic, _RecordedTrafficEntry):
        traffic_log = base / entry.traffic.log
        if not traffic_log.is_file():
            raise fail("traffic.log", f"no such log file: {traffic_log}")
        # The clients' keys, checked as the model's are; sent at no rate of their own.
        entries = [
            _TrafficEntry(client=c, key=k, per_minute=0, mix={"-": 1}) for c, k in entry.traffic.keys.items()
        ]
        traffic = tuple(_traffic(index, item, initial, fail, mix=False) for index, item in enumerate(entries))
    else:
        traffic = tuple(_traffic(index, item, initial, fail) for index, item in enumerate(entry.traffic))
    events = _events(entry, base, fail)
    shape = tuple((int(minute), float(factor)) for minute, factor in entry.load.shape)
    if not shape or any(b[0] <= a[0] for a, b in pairwise(shape)):
        raise fail("load.shape", "give [minute, factor] points with strictly increasing minutes")
    if any(factor < 0 for _, factor in shape):
        raise fail("load.shape", "a load factor cannot be negative")
    return Scenario(
        name=entry.name,
        title=entry.title,
        description=entry.description,
        source=source,
        start=entry.start,
        timezone=entry.timezone,
        minutes=entry.minutes,
        seed=entry.seed,
        plans=plans_path,
        services=services_path,
        impact_threshold=entry.impact_threshold,
        load_shape=shape,
        operators=OperatorModel(
            entry.operators.user_reports_after_minutes, entry.operators.page_to_rollback_minutes
        ),
        traffic=traffic,
        events=events,
        fleet=_fleet(entry, initial, fail),
        traffic_log=traffic_log,
    )


def with_pushed_plans(scenario: Scenario, path: str | Path) -> Scenario:
    """The scenario with `path` as the plan file its (first) plan push pushes, the event's note
    naming it: `gw467 replay --push FILE`, your own change in the hour."""
    file = Path(path)
    try:
        load_plan_set(file)
    except ConfigError as error:
        where = f"--push: {error.where}" if error.where else "--push"
        raise ConfigError(str(path), where, error.message, error.line, error.column) from None
    events = list(scenario.events)
    index = next((n for n, event in enumerate(events) if event.action == "push_plans"), None)
    if index is None:
        raise ConfigError(scenario.source, "events", "no push_plans event for --push to take the place of")
    event = events[index]
    original = event.file.name if event.file is not None else "?"
    note = f"{path} pushed (--push, in place of {original})"
    events[index] = ScenarioEvent(event.minute, event.action, file, note)
    return replace(scenario, events=tuple(events))


def _referenced_plans(path: Path, where: str, fail: Fail) -> PlanSet:
    try:
        return load_plan_set(path)
    except ConfigError as error:
        raise fail(where, f"cannot use plan file: {error}") from None


def _referenced_services(path: Path, where: str, fail: Fail) -> ServiceMap:
    try:
        return load_service_map(path)
    except ConfigError as error:
        raise fail(where, f"cannot use service map: {error}") from None


def _traffic(
    index: int, item: _TrafficEntry, plan_set: PlanSet, fail: Fail, mix: bool = True
) -> TrafficSource:
    """A [[traffic]] entry, checked; with `mix` false (a recorded log's keys) only its client and key."""
    where = f"traffic[{index}]" if mix else f"traffic.keys.{item.client}"
    known = {client.id: client for client in plan_set.clients}
    if item.client not in known:
        raise fail(f"{where}.client", f"unknown client {item.client!r} in {plan_set.version}")
    if sha256_hex(item.key) not in known[item.client].key_sha256s:
        # Never echo the key: say only that it is the wrong one.
        raise fail(f"{where}.key", f"does not authenticate as client {item.client!r}")
    if not mix:
        return TrafficSource(item.client, item.key, 0.0, ())
    endpoint_ids = {endpoint.id for endpoint in plan_set.endpoints}
    for endpoint_id in item.mix:
        if endpoint_id not in endpoint_ids:
            raise fail(f"{where}.mix.{endpoint_id}", f"unknown endpoint in {plan_set.version}")
    return TrafficSource(
        item.client,
        item.key,
        float(item.per_minute),
        tuple((k, float(v)) for k, v in item.mix.items()),
    )


def _fleet(entry: _ScenarioFile, plan_set: PlanSet, fail: Fail) -> FleetModel | None:
    """The declared fleet: its internal clients first-party ones, its rings growing to every instance."""
    fleet = entry.fleet
    if fleet is None:
        return None
    first_party = {client.id for client in plan_set.clients if client.first_party}
    for index, client_id in enumerate(fleet.internal_clients):
        if client_id not in first_party:
            raise fail(
                f"fleet.internal_clients[{index}]",
                f"{client_id!r} is not a first-party client in {plan_set.version}",
            )
    if fleet.internal_clients and fleet.internal_instances == 0:
        raise fail("fleet.internal_clients", "internal clients need fleet.internal_instances of at least 1")
    if fleet.internal_instances and not fleet.internal_clients:
        raise fail("fleet.internal_instances", "no fleet.internal_clients: these instances would idle")
    rings: list[Ring] = []
    reached = -1
    for index, item in enumerate(fleet.rings):
        where = f"fleet.rings[{index}]"
        if item.internal == (item.percent is not None):
            raise fail(where, "give either internal = true or a percent of instances")
        if item.internal:
            if index:
                raise fail(f"{where}.internal", "the internal ring comes first")
            if fleet.internal_instances == 0:
                raise fail(f"{where}.internal", "an internal ring needs fleet.internal_instances >= 1")
            ring = Ring(item.name, True, 0.0, item.bake_minutes)
        else:
            assert item.percent is not None
            ring = Ring(item.name, False, float(item.percent), item.bake_minutes)
        if any(ring.name == earlier.name for earlier in rings):
            raise fail(f"{where}.name", f"ring {ring.name!r} is named twice")
        rings.append(ring)
        model = FleetModel(fleet.instances, fleet.internal_instances, (), 0.0, 0.0, 0.5, 1, (ring,))
        size = len(model.members(ring))
        if size <= reached:
            raise fail(
                f"{where}.percent",
                f"{ring.percent:g}% of {fleet.instances} instances reaches no instance the ring before "
                "did not: give more instances or fewer rings",
            )
        reached = size
    if rings[-1].internal or rings[-1].percent < 100:
        raise fail(f"fleet.rings[{len(rings) - 1}].percent", "the last ring must reach 100% of instances")
    return FleetModel(
        instances=fleet.instances,
        internal_instances=fleet.internal_instances,
        internal_clients=tuple(fleet.internal_clients),
        internal_share=float(fleet.internal_share),
        propagation_seconds=float(fleet.propagation_seconds),
        halt_threshold=float(fleet.halt_threshold),
        halt_min_requests=fleet.halt_min_requests,
        rings=tuple(rings),
    )


def _events(entry: _ScenarioFile, base: Path, fail: Fail) -> tuple[ScenarioEvent, ...]:
    pushed = {"push_plans": 0, "push_services": 0}
    events: list[ScenarioEvent] = []
    previous = -1
    for index, item in enumerate(entry.events):
        where = f"events[{index}]"
        if item.minute >= entry.minutes:
            raise fail(f"{where}.minute", f"minute {item.minute} is past the end ({entry.minutes} minutes)")
        if item.minute < previous:
            raise fail(f"{where}.minute", "events must be in time order")
        previous = item.minute
        file = None
        if item.action in PUSHES:
            if item.file is None:
                raise fail(f"{where}.file", f"{item.action} needs a file")
            file = base / item.file
            if item.action == "push_plans":
                _referenced_plans(file, f"{where}.file", fail)
            else:
                _referenced_services(file, f"{where}.file", fail)
            pushed[item.action] += 1
        else:
            if item.file is not None:
                raise fail(f"{where}.file", f"{item.action} takes no file: it restores the one before")
            push = next(push for push, rollback in PUSHES.items() if rollback == item.action)
            if pushed[push] == 0:
                raise fail(f"{where}.action", f"{item.action} with nothing pushed before it")
            pushed[push] -= 1
        events.append(ScenarioEvent(item.minute, item.action, file, item.note))
    return tuple(events)
