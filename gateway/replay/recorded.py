"""Recorded traffic: a log `gw467 impact` reads, played as the replay's traffic on the virtual clock.

The log's first minute becomes the scenario's minute 0; each distinct request of a minute is sent
as many times as the log holds it, spread evenly over that minute (the log's own seconds are not
kept: the engine groups by minute). Requests are sent with the key the scenario's [[traffic]]
entry gives their client; a line whose client has no entry there, that is not decided (no client,
unparsed), or that falls after the scenario's last minute is counted in `skipped`, not sent.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from gateway.core.compiler import compile_plan_set
from gateway.core.paths import PathRejected
from gateway.core.plans import PlanSet
from gateway.core.routing import NO_MATCH, RouteTrie
from gateway.impact.clients import ClientMapping
from gateway.impact.deciding import utc_minute
from gateway.impact.duckdb_engine import DuckDBEngine
from gateway.impact.formats import LineFormat, gw467_format
from gateway.impact.sources import log_files
from gateway.replay.scenario import Scenario
from gateway.replay.traffic import VirtualRequest

NO_SURFACE = "none"


class RecordedTraffic:
    """The replay's traffic, read from a log: `minute(m, seed)` as `TrafficModel` offers it."""

    def __init__(self, by_minute: dict[int, list[VirtualRequest]], skipped: Counter[str]) -> None:
        self._by_minute = by_minute
        self.skipped = skipped
        self.requests = sum(len(requests) for requests in by_minute.values())

    def minute(self, minute: int, seed: int) -> list[VirtualRequest]:
        """Every request of `minute`, in time order (the seed changes nothing: the log is the traffic)."""
        return self._by_minute.get(minute, [])


def recorded_traffic(
    logs: list[str], scenario: Scenario, plan_set: PlanSet, form: LineFormat | None = None
) -> RecordedTraffic:
    table = DuckDBEngine().distinct_requests(log_files(logs), form or gw467_format(), ClientMapping())
    keys = {source.client_id: f"Bearer {source.key}".encode() for source in scenario.traffic}
    routes = compile_plan_set(plan_set).routes
    skipped: Counter[str] = Counter()
    rows: list[tuple[datetime, str, str, str, int]] = []
    for row in table.to_pylist():
        minute = utc_minute(row["minute_raw"]) if row["reason"] is None else None
        if row["reason"] is not None or minute is None:
            skipped[row["reason"] or "bad-time"] += row["requests"]
        elif row["client"] not in keys:
            skipped["client-not-in-scenario"] += row["requests"]
        else:
            moment = datetime.strptime(minute, "%Y-%m-%dT%H:%MZ")
            rows.append((moment, row["client"], row["method"], row["path"], row["requests"]))
    by_minute: dict[int, list[VirtualRequest]] = {}
    first = min((row[0] for row in rows), default=None)
    for moment, client, method, path, count in sorted(rows):
        assert first is not None
        minute_index = int((moment - first).total_seconds() // 60)
        if minute_index >= scenario.minutes:
            skipped["after-the-scenario"] += count
            continue
        endpoint_id, surface = _endpoint(routes, plan_set, method, path)
        requests = by_minute.setdefault(minute_index, [])
        for n in range(count):
            second = (n + 0.5) * 60.0 / count
            requests.append(VirtualRequest(second, client, endpoint_id, surface, method, path, keys[client]))
    for requests in by_minute.values():
        requests.sort(key=lambda request: request.second)
    return RecordedTraffic(by_minute, skipped)


def _endpoint(routes: RouteTrie, plan_set: PlanSet, method: str, path: str) -> tuple[str, str]:
    """The endpoint and surface a request routes to under the scenario's first plan file."""
    try:
        index = routes.route(method, path).endpoint
    except PathRejected:
        return "", NO_SURFACE
    if index == NO_MATCH:
        return "", NO_SURFACE
    endpoint = plan_set.endpoints[index]
    return endpoint.id, endpoint.surface
