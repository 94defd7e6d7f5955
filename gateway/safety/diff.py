"""The blast radius of a plan change: every access each client loses or gains between two compiled
tables (as `gateway.safety.access` defines it), and, from a traffic log, how many requests per
minute the change would turn into failures.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway.core.config import ConfigError, read_text
from gateway.core.decision import DecisionTable, decide
from gateway.safety.access import GAINED, LOST, AccessChange, access_changes


@dataclass(frozen=True)
class GrantDiff:
    """Every access change from `old_version` to `new_version`, first-party losses first.

    `surfaces` lists the surfaces of both catalogues in catalogue order (NEW's, then any
    only OLD had), for reports that name surfaces as an operator knows them.
    """

    old_version: str
    new_version: str
    changes: tuple[AccessChange, ...]
    surfaces: tuple[str, ...] = ()

    @property
    def losses(self) -> tuple[AccessChange, ...]:
        return tuple(change for change in self.changes if change.change == LOST)

    @property
    def gains(self) -> tuple[AccessChange, ...]:
        return tuple(change for change in self.changes if change.change == GAINED)

    @property
    def first_party_losses(self) -> tuple[AccessChange, ...]:
        return tuple(change for change in self.losses if change.first_party)


def diff_tables(old: DecisionTable, new: DecisionTable) -> GrantDiff:
    """What OLD -> NEW takes away and gives, by the one definition in `gateway.safety.access`."""
    changes = sorted(access_changes(old, new), key=_report_order)
    surfaces = tuple(dict.fromkeys(e.surface for e in (*new.endpoints, *old.endpoints)))
    return GrantDiff(old.version, new.version, tuple(changes), surfaces)


def _report_order(change: AccessChange) -> tuple[int, str, str, str, str]:
    if change.change == GAINED:
        section = 2
    elif change.first_party:
        section = 0
    else:
        section = 1
    return (section, change.client_class, change.surface, change.client_id, change.endpoint_id)


@dataclass(frozen=True)
class TrafficEntry:
    """One logged request: who sent it, what it asked for, and when (epoch seconds), if known."""

    client_id: str
    method: str
    path: str
    time: float | None


@dataclass(frozen=True)
class TrafficWeights:
    """Logged traffic that OLD forwards and NEW would refuse, in requests per minute.

    `rates` is keyed by (client id, endpoint id of OLD's decision). Lines from a client
    that one of the tables does not know cannot be decided on both sides; they are
    counted in `unknown_to_old` / `unknown_to_new` and not weighed.
    """

    minutes: float
    rates: dict[tuple[str, str], float]
    first_party_rate: float
    total_rate: float
    requests_weighed: int
    requests_failing: int
    unknown_to_old: int
    unknown_to_new: int

    def rate(self, client_id: str, endpoint_id: str) -> float:
        return self.rates.get((client_id, endpoint_id), 0.0)


_LOG_KEYS = ("client", "method", "path", "time")


def read_traffic_log(path: str | Path) -> list[TrafficEntry]:
    """Read JSON lines `{"client", "method", "path", "time"?}`; ConfigError names the line at fault."""
    source = str(path)
    entries: list[TrafficEntry] = []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        entries.append(_traffic_entry(line, source, number))
    return entries


def _traffic_entry(line: str, source: str, number: int) -> TrafficEntry:
    where = f"line {number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ConfigError(source, where, f"not JSON: {error.msg} (column {error.colno})") from None
    if not isinstance(record, dict):
        raise ConfigError(source, where, f"expected a JSON object, got {_json_kind(record)}")
    unknown = sorted(set(record) - set(_LOG_KEYS))
    if unknown:
        # Strict, like the plan files: a misspelt "time" would otherwise be silently dropped.
        raise ConfigError(source, where, f"unknown key {unknown[0]!r} (expected {', '.join(_LOG_KEYS)})")
    for key in ("client", "method", "path"):
        if key not in record:
            raise ConfigError(source, where, f"missing required key {key!r}")
        if not isinstance(record[key], str) or not record[key]:
            raise ConfigError(
                source, where, f"{key!r} must be a non-empty string, got {_json_kind(record[key])}"
            )
    time = record.get("time")
    if time is not None and (
        isinstance(time, bool) or not isinstance(time, int | float) or not math.isfinite(time)
    ):
        raise ConfigError(source, where, f"'time' must be a number of epoch seconds, got {_json_kind(time)}")
    return TrafficEntry(
        record["client"], record["method"], record["path"], None if time is None else float(time)
    )


def _json_kind(value: object) -> str:
    """What a JSON value is, without echoing it: log lines may carry anything."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number" if math.isfinite(value) else "a non-finite number"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def weigh(
    diff: GrantDiff,
    old: DecisionTable,
    new: DecisionTable,
    entries: Iterable[TrafficEntry],
    minutes: float | None,
) -> TrafficWeights:
    """Decide every logged request under OLD and NEW; rate those OLD forwards and NEW refuses.

    The rate is per minute of `minutes` if given, else of the log's time span (at least
    one minute), else of one minute.
    """
    if (diff.old_version, diff.new_version) != (old.version, new.version):
        raise ValueError(
            f"diff of {diff.old_version} -> {diff.new_version} weighed against {old.version} -> {new.version}"
        )
    if minutes is not None and minutes <= 0:
        raise ValueError(f"minutes must be positive, got {minutes}")
    failing: Counter[tuple[str, str]] = Counter()
    first_party_failing = 0
    weighed = unknown_to_old = unknown_to_new = 0
    times: list[float] = []
    for entry in entries:
        if entry.time is not None:
            times.append(entry.time)
        before_client = old.clients_by_id.get(entry.client_id)
        after_client = new.clients_by_id.get(entry.client_id)
        if before_client is None:
            unknown_to_old += 1
        if after_client is None:
            unknown_to_new += 1
        if before_client is None or after_client is None:
            continue
        weighed += 1
        before = decide(old, entry.method, entry.path, [], client=before_client)
        if before.status is not None:
            continue
        after = decide(new, entry.method, entry.path, [], client=after_client)
        if after.status is None:
            continue
        assert before.endpoint is not None  # a forwarded decision always names its endpoint
        failing[(entry.client_id, before.endpoint.id)] += 1
        if after_client.first_party:
            first_party_failing += 1
    span = _minutes(minutes, times)
    return TrafficWeights(
        minutes=span,
        rates={key: count / span for key, count in failing.items()},
        first_party_rate=first_party_failing / span,
        total_rate=failing.total() / span,
        requests_weighed=weighed,
        requests_failing=failing.total(),
        unknown_to_old=unknown_to_old,
        unknown_to_new=unknown_to_new,
    )


def _minutes(given: float | None, times: list[float]) -> float:
    if given is not None:
        return given
    if times:
        # A log shorter than a minute would inflate its rate; count it as one minute.
        return max((max(times) - min(times)) / 60.0, 1.0)
    return 1.0
