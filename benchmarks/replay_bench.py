"""Group 3: the replay's virtual request rate beside the in-process gateway call rate, interleaved.

Each repetition replays the 2023-03-06 scenario (all of it; a few minutes with
--quick) and then times a batch of direct calls into EntitlementMiddleware, so
the ratio compares the two in the same conditions. The replay does more per
request (traffic generation, the demo upstream's routing and payloads, counting).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time

from benchmarks.asgi_bench import VARIANTS
from benchmarks.asgi_driver import http_scope, time_batch
from benchmarks.results import HarnessError, Measurement
from benchmarks.settings import ROOT, Settings
from benchmarks.stats import Series
from gateway.replay.engine import ReplayEngine
from gateway.replay.scenario import Scenario, load_scenario

SCENARIO = ROOT / "scenarios" / "2023-03-06-error-467.toml"
GROUP = "replay"
QUICK_MINUTES = 3


def _scenario(settings: Settings) -> Scenario:
    scenario = load_scenario(SCENARIO)
    if not settings.quick:
        return scenario
    events = tuple(e for e in scenario.events if e.minute < QUICK_MINUTES)
    return dataclasses.replace(scenario, minutes=QUICK_MINUTES, events=events)


def run(settings: Settings) -> list[Measurement]:
    scenario = _scenario(settings)
    gateway_variant = next(v for v in VARIANTS if v.name == "asgi.gateway_allowed")
    gateway = gateway_variant.build()
    scope, headers = http_scope("GET", "/2/tweets/12", "gw467-demo-web")
    replay_series, gateway_series = Series(), Series()
    reps = settings.reps
    requests = 0
    print(f"replay: {reps} reps of {scenario.name} ({scenario.minutes} virtual minutes)", file=sys.stderr)
    for rep in range(1, reps + 1):
        started = time.perf_counter_ns()
        record = asyncio.run(ReplayEngine(scenario).run())
        elapsed = time.perf_counter_ns() - started
        if requests and record.requests != requests:
            raise HarnessError("the replay sent a different number of requests with the same seed")
        requests = record.requests
        replay_series.add(elapsed, requests)
        gateway_series.add(
            asyncio.run(time_batch(gateway, scope, headers, settings.requests)), settings.requests
        )
        print(
            f"  replay rep {rep}/{reps}: {requests / elapsed * 1e9:,.0f} virtual requests/s", file=sys.stderr
        )
    gateway_row = Measurement.timing(
        "replay.gateway_call", "in-process gateway call (interleaved)", GROUP, "ns/request", gateway_series
    )
    replay_row = Measurement.timing(
        "replay.virtual_request",
        f"replay {scenario.name}: per virtual request",
        GROUP,
        "ns/request",
        replay_series,
        requests_per_replay=requests,
        virtual_minutes=scenario.minutes,
        requests_per_second=1e9 / replay_series.median,
        share_of_gateway_call_rate=gateway_series.median / replay_series.median,
    )
    for row in (gateway_row, replay_row):
        row.baseline = gateway_row.name
        row.ratio = row.median / gateway_row.median
    return [gateway_row, replay_row]
