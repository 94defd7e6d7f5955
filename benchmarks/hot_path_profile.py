"""Where an allowed request's time goes: cProfile over the gateway in process, own time per function.

Printed by `python -m benchmarks` when an in-process target misses, so a miss comes with
the profile that explains it. Own time is grouped by where the code lives (Starlette, the
gateway's Python modules, the gateway's compiled modules, the benchmark's driver).
Compiled functions show as single C calls: their callees are inside their own time.
cProfile slows every Python call alike, so the shares are what to read, not the totals.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
from dataclasses import dataclass

from benchmarks.apps import bare_app
from benchmarks.asgi_bench import KEY, METHOD, PATH
from benchmarks.asgi_driver import http_scope, time_batch
from benchmarks.settings import ALLOWING_PLANS
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.hot_path import running_compiled

TOP = 14


@dataclass(frozen=True)
class Row:
    function: str
    where: str
    calls: int
    own_share: float


def _where(filename: str, function: str) -> str:
    if "/starlette/" in filename:
        return "starlette"
    if "/gateway/" in filename:
        return "gateway (Python)"
    if "/benchmarks/" in filename:
        # A compiled module's calls are C calls inside the Python frame that made them.
        return "benchmark driver, and compiled gateway code" if running_compiled() else "benchmark driver"
    if filename == "~" and "gateway." in function:
        return "gateway (compiled)"
    return "builtins and C calls"


def profile(requests: int) -> tuple[list[Row], dict[str, float]]:
    """The top functions by own time, and own time by place, over `requests` allowed requests."""
    app = EntitlementMiddleware(bare_app(), ALLOWING_PLANS)
    scope, headers = http_scope(METHOD, PATH, KEY)
    asyncio.run(time_batch(app, scope, headers, max(1, requests // 10)))
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(time_batch(app, scope, headers, requests))
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in stats.values()) or 1.0
    rows: list[Row] = []
    by_place: dict[str, float] = {}
    for (filename, line, function), (_, calls, own, _, _) in stats.items():
        where = _where(filename, function)
        by_place[where] = by_place.get(where, 0.0) + own / total
        label = function if filename == "~" else f"{filename.rsplit('/', 2)[-1]}:{line} {function}"
        rows.append(Row(label, where, calls, own / total))
    rows.sort(key=lambda row: row.own_share, reverse=True)
    return rows[:TOP], dict(sorted(by_place.items(), key=lambda item: -item[1]))
