"""From a replay's counts to the figures people quote, and to the JSON record.

Pure functions of a `ReplayRecord`. A request has failed when its status is 400
or more (467, 429, 5xx and the other 4xx are kept apart). A minute is impacted
when more than the scenario's `impact_threshold` of first-party requests fail.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from gateway.core.rules import StatusKind, status_kind
from gateway.replay.engine import AppliedEvent, ReplayRecord, StatusAtMinute

# The kinds a replay reports, in report order (a replay has no NO_RESPONSE: every call is answered).
KINDS = tuple(
    kind.value
    for kind in (
        StatusKind.OK,
        StatusKind.NOT_ENTITLED,
        StatusKind.QUOTA,
        StatusKind.SERVER_ERROR,
        StatusKind.CLIENT_ERROR,
    )
)


def failed(kinds: dict[str, int]) -> int:
    return sum(count for kind, count in kinds.items() if kind != "ok")


@dataclass(frozen=True)
class MinuteRow:
    minute: int
    time: str
    plans: str
    services: str
    by_class: dict[str, dict[str, int]]
    first_party: dict[str, int]
    third_party: dict[str, int]
    events: tuple[AppliedEvent, ...]
    status_page: StatusAtMinute

    @property
    def first_party_failure_rate(self) -> float:
        total = sum(self.first_party.values())
        return failed(self.first_party) / total if total else 0.0


@dataclass(frozen=True)
class ReplaySummary:
    requests: int
    first_party_requests: int
    first_party_failed: int
    first_party_by_kind: dict[str, int]
    first_party_failed_by_surface: dict[str, int]
    impact_minutes: int
    impact_first_minute: int | None
    impact_last_minute: int | None
    push_to_rollback_minutes: int | None
    third_party_requests: int
    third_party_failed: int
    third_party_467: int
    change_first_minute: int | None
    change_last_minute: int | None
    third_party_failure_rate_before_change: float
    third_party_failure_rate_during_change: float


def clock_label(record: ReplayRecord, minute: int) -> str:
    return (record.scenario.start + timedelta(minutes=minute)).strftime("%H:%M")


def minute_rows(record: ReplayRecord) -> list[MinuteRow]:
    per_class: dict[int, dict[str, Counter[str]]] = {}
    for (minute, client_class, _surface, status), count in record.counts.items():
        per_class.setdefault(minute, {}).setdefault(client_class, Counter())[status_kind(status)] += count
    rows = []
    for minute in range(record.scenario.minutes):
        classes = per_class.get(minute, {})
        first: Counter[str] = Counter()
        third: Counter[str] = Counter()
        for client_class, kinds in classes.items():
            (first if record.classes[client_class] else third).update(kinds)
        rows.append(
            MinuteRow(
                minute=minute,
                time=clock_label(record, minute),
                plans=record.plans_by_minute[minute],
                services=record.services_by_minute[minute],
                by_class={c: _ordered(k) for c, k in sorted(classes.items())},
                first_party=_ordered(first),
                third_party=_ordered(third),
                events=tuple(e for e in record.events if e.minute == minute),
                status_page=record.status_by_minute[minute],
            )
        )
    return rows


def summarize(record: ReplayRecord) -> ReplaySummary:
    rows = minute_rows(record)
    first_by_kind: Counter[str] = Counter()
    first_failed_by_surface: Counter[str] = Counter()
    third: Counter[str] = Counter()
    for (_minute, client_class, surface, status), count in record.counts.items():
        kind = status_kind(status)
        if record.classes[client_class]:
            first_by_kind[kind] += count
            if kind != "ok":
                first_failed_by_surface[surface] += count
        else:
            third[kind] += count
    impacted = [row.minute for row in rows if row.first_party_failure_rate > record.scenario.impact_threshold]
    change = _change_window(record.events, record.scenario.minutes)
    before = [row for row in rows if change is None or row.minute < change[0]]
    during = [row for row in rows if change is not None and change[0] <= row.minute <= change[1]]
    return ReplaySummary(
        requests=record.requests,
        first_party_requests=sum(first_by_kind.values()),
        first_party_failed=failed(first_by_kind),
        first_party_by_kind=_ordered(first_by_kind),
        first_party_failed_by_surface=dict(sorted(first_failed_by_surface.items(), key=lambda kv: -kv[1])),
        impact_minutes=len(impacted),
        impact_first_minute=impacted[0] if impacted else None,
        impact_last_minute=impacted[-1] if impacted else None,
        push_to_rollback_minutes=_push_to_rollback(record.events),
        change_first_minute=change[0] if change else None,
        change_last_minute=change[1] if change else None,
        third_party_requests=sum(third.values()),
        third_party_failed=failed(third),
        third_party_467=third["467"],
        third_party_failure_rate_before_change=_rate(row.third_party for row in before),
        third_party_failure_rate_during_change=_rate(row.third_party for row in during),
    )


def _change_window(events: tuple[AppliedEvent, ...], minutes: int) -> tuple[int, int] | None:
    """The minutes during which the first pushed change was in force (to the end if never undone)."""
    pushes = [event for event in events if event.action.startswith("push_")]
    if not pushes:
        return None
    undone_after = _push_to_rollback(events)
    first = pushes[0].minute
    return first, (first + undone_after - 1 if undone_after is not None else minutes - 1)


def _push_to_rollback(events: tuple[AppliedEvent, ...]) -> int | None:
    """Minutes from the first push to the rollback that undid it (None if never rolled back)."""
    depth = 0
    first_push: int | None = None
    for event in events:
        if event.action.startswith("push_"):
            if first_push is None:
                first_push = event.minute
            depth += 1
        elif event.action.startswith("rollback_") and first_push is not None:
            depth -= 1
            if depth == 0:
                return event.minute - first_push
    return None


def _rate(kinds_per_minute: Any) -> float:
    total = Counter[str]()
    for kinds in kinds_per_minute:
        total.update(kinds)
    count = sum(total.values())
    return failed(total) / count if count else 0.0


def _ordered(kinds: Counter[str] | dict[str, int]) -> dict[str, int]:
    return {kind: kinds[kind] for kind in KINDS if kinds.get(kind)}


def record_json(record: ReplayRecord) -> dict[str, Any]:
    """The full replay as JSON-ready data; the same seed gives byte-identical output."""
    scenario = record.scenario
    rows = minute_rows(record)
    document: dict[str, Any] = {
        "gw467_replay": 1,
        "scenario": {
            "name": scenario.name,
            "title": scenario.title,
            "file": scenario.source,
            "start": scenario.start.isoformat(),
            "timezone": scenario.timezone,
            "minutes": scenario.minutes,
            "impact_threshold": scenario.impact_threshold,
        },
        "seed": record.seed,
        "requests": record.requests,
        "classes": {
            name: ("first_party" if first else "third_party")
            for name, first in sorted(record.classes.items())
        },
        "events": [{**asdict(event), "time": clock_label(record, event.minute)} for event in record.events],
        "summary": asdict(summarize(record)),
        "minutes": [
            {
                "minute": row.minute,
                "time": row.time,
                "plans": row.plans,
                "services": row.services,
                "first_party": row.first_party,
                "third_party": row.third_party,
                "by_class": row.by_class,
                "status_page": {
                    "status": row.status_page.status,
                    "5xx_only": row.status_page.status_5xx,
                    "alert_firing": row.status_page.alert_firing,
                },
            }
            for row in rows
        ],
        "counts": [[m, c, s, status, n] for (m, c, s, status), n in sorted(record.counts.items())],
    }
    if scenario.fleet is not None:
        document["fleet"] = fleet_json(record)
    return document


def fleet_json(record: ReplayRecord) -> dict[str, Any]:
    """A fleet replay's own figures: the fleet, its rings as they ran, and who ran what."""
    fleet = record.scenario.fleet
    assert fleet is not None
    return {
        "instances": fleet.instances,
        "internal_instances": fleet.internal_instances,
        "internal_clients": list(fleet.internal_clients),
        "internal_share": fleet.internal_share,
        "propagation_seconds": fleet.propagation_seconds,
        "halt": {"threshold": fleet.halt_threshold, "min_requests": fleet.halt_min_requests}
        if fleet.halt
        else None,
        "rings": [
            {
                "name": ring.name,
                "internal": ring.internal,
                "percent": ring.percent,
                "bake_minutes": ring.bake_minutes,
                "instances": len(fleet.members(ring)),
            }
            for ring in fleet.rings
        ],
        "rings_run": [asdict(outcome) for outcome in record.rings],
        "instances_ran": record.instances_ran,
        "instances_by_minute": list(record.instances_by_minute),
    }
