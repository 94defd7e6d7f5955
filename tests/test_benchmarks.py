"""Smoke test of the benchmark harness: a --quick run writes every figure and target; no speed is asserted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from rich.console import Console

from benchmarks import hot_path_parts, hot_path_profile, server_bench
from benchmarks.cli import main
from benchmarks.report import parts_table, show
from benchmarks.settings import QUICK

TIMINGS = {
    "asgi.bare",
    "asgi.noop",
    "asgi.gateway_allowed",
    "asgi.gateway_metrics",
    "asgi.gateway_467",
    "asgi.basehttp_gateway",
    "decide.templates_small",
    "decide.templates_medium",
    "decide.templates_large",
    "decide.templates_xlarge",
    "decide.keys_small",
    "decide.keys_medium",
    "decide.keys_large",
    "decide.keys_xlarge",
    "decide.keys_xlarge_reference",
    "replay.gateway_call",
    "replay.virtual_request",
    *(f"impact.{log}_{kind}" for log in ("nginx", "gw467") for kind in ("duckdb_raw", "impact")),
    "server.bare",
    "server.gateway",
    "server.gateway_metrics",
    "store.memory",
    "store.redis",
    "store.server_memory",
    "store.server_redis",
    *(f"workers.{app}_{n}" for app in ("bare", "gateway") for n in (1, 2, 4)),
}
RATES = {
    "server.bare.requests_per_second",
    "server.gateway.requests_per_second",
    "store.server_memory.requests_per_second",
    "store.server_redis.requests_per_second",
    *(f"workers.{app}_{n}.requests_per_second" for app in ("bare", "gateway") for n in (1, 2, 4)),
}
SECONDS = {
    "build.templates_large.compile",
    "build.templates_xlarge.compile",
    "build.keys_large.plan_set",
    "build.keys_large.compile",
    "build.keys_xlarge.plan_set",
    "build.keys_xlarge.compile",
}
# At --quick sizes the allocator may reuse freed memory, so RSS growth may be 0 (never negative peaks).
MEBIBYTES = {
    "build.templates_large.table_rss",
    "build.templates_large.peak_rss",
    "build.templates_large.traced_peak",
    "build.keys_large.plan_set_rss",
    "build.keys_large.table_rss",
    "build.keys_large.peak_rss",
    "build.keys_medium.traced_peak",
    "build.templates_xlarge.table_rss",
    "build.templates_xlarge.peak_rss",
    "build.keys_xlarge.plan_set_rss",
    "build.keys_xlarge.table_rss",
    "build.keys_xlarge.peak_rss",
}
TARGETS = {
    "gateway_allowed_overhead",
    "gateway_metrics_overhead",
    "denial_cost",
    "decide_templates_scaling",
    "decide_keys_scaling",
    "decide_templates_xlarge_scaling",
    "decide_keys_xlarge_scaling",
    "server_cpu_overhead",
    "control_detects_basehttp",
    "replay_rate",
    "impact_rate",
    "keys_compile_time",
    "keys_compile_memory",
    "templates_compile_time",
    "templates_compile_memory",
}
REPS = 3


@pytest.mark.slow  # uvicorn servers of 1, 2 and 4 workers: the suite's longest test after the replays
def test_quick_run_checks_each_variant_and_writes_every_measurement_and_target(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"

    assert main(["--quick", "--xlarge-keys", "2000", "--out", str(out)]) == 0

    document = json.loads(out.read_text())
    measurements, targets = document["measurements"], document["targets"]
    assert not (TIMINGS | RATES | SECONDS | MEBIBYTES) - set(measurements), (
        "measurements missing from the JSON"
    )
    for name in TIMINGS:
        figure = measurements[name]
        assert len(figure["samples"]) == REPS, name
        assert all(figure[field] > 0 for field in ("median", "min", "max", "ratio")), name
        assert figure["min"] <= figure["median"] <= figure["max"], name
        assert all(sample > 0 for sample in figure["samples"]), name
    for name in RATES:
        assert len(measurements[name]["samples"]) == REPS, name
        assert measurements[name]["min"] > 0, name
    for name in SECONDS:
        assert measurements[name]["median"] > 0, name
    for name in MEBIBYTES:
        assert measurements[name]["median"] >= 0, name
    for name in (
        "asgi.bare",
        "server.bare",
        "decide.templates_small",
        "decide.keys_small",
        "decide.keys_xlarge_reference",
        "store.memory",
        *(f"workers.bare_{n}" for n in (1, 2, 4)),
    ):
        assert measurements[name]["ratio"] == 1.0, name
    # Each worker count is compared with the bare app at the same count, and says how many cores ran it.
    for n in (1, 2, 4):
        gateway = measurements[f"workers.gateway_{n}"]
        assert gateway["baseline"] == f"workers.bare_{n}"
        assert gateway["details"]["workers"] == n and gateway["details"]["cores"] >= 1
    assert measurements["decide.keys_xlarge"]["details"]["keys"] == 2000
    # A server rep lasts until /proc has counted enough of its CPU: a reading of 0 ticks is no figure.
    for name, figure in measurements.items():
        if "cpu_ticks" in figure["details"]:
            assert min(figure["details"]["cpu_ticks"]) >= QUICK.server_min_ticks, name

    assert set(targets) == TARGETS
    for name, target in targets.items():
        assert target["result"] in ("pass", "miss"), name
        assert target["value"] > 0, name

    # Every variant was checked before it was timed: the answers it gave are on record.
    assert measurements["asgi.gateway_467"]["details"]["observed_status"] == 467
    for name in ("asgi.bare", "asgi.gateway_allowed", "asgi.gateway_metrics", "asgi.basehttp_gateway"):
        assert measurements[name]["details"]["observed_status"] == 200, name
    for name in ("server.bare", "server.gateway", "server.gateway_metrics"):
        assert measurements[name]["details"]["observed_status"] == 200, name
    # The gateway with metrics on counted every request it answered, timed or not.
    assert measurements["asgi.gateway_metrics"]["details"]["metrics_counted"] >= REPS * 300


def test_a_miss_comes_with_the_profile_and_the_parts_of_the_gateways_time() -> None:
    # What `python -m benchmarks` prints when an in-process target misses (not in --quick runs).
    rows, by_place = hot_path_profile.profile(200)
    assert rows and abs(sum(by_place.values()) - 1.0) < 1e-6
    assert "starlette" in by_place
    parts = hot_path_parts.parts(200)
    assert parts[0].name.startswith("bare Starlette app")
    assert [part.name.split(":")[0].strip() for part in parts[3:]] == [
        "Gateway.decide",
        "route the path (RouteTrie.route)",
        "read the bearer key",
        "find its client (SHA-256, constant-time compare)",
        "Gateway.observe",
        "send a prepared 467 refusal",
    ]
    assert all(part.nanoseconds > 0 for part in parts[:1] + parts[3:])
    console = Console(record=True, width=200)
    show(parts_table(parts, hot_path_parts.TRIED), console=console)
    text = console.export_text()
    assert "of a bare request" in text and "tried so far: mypyc" in text


def test_a_timed_rep_sends_at_least_one_batch_and_goes_on_until_the_cpu_reading_resolves(
    tmp_path: Path,
) -> None:
    # A warm-up asks for no ticks and must still send its batch; a rep asking for ticks sends
    # whole batches until /proc has counted them.
    async def reps(server: server_bench.Server) -> tuple[server_bench.TimedBatches, ...]:
        await server_bench.until_answering(server)
        warm_up = await server_bench.timed_batches(server, 2, 50, 0)
        rep = await server_bench.timed_batches(server, 2, 50, 3)
        return warm_up, rep

    with server_bench.serving(server_bench.VARIANTS[:1], None, tmp_path) as (server,):
        warm_up, rep = asyncio.run(reps(server))
    assert warm_up.requests == 50 and warm_up.seconds > 0
    assert rep.ticks >= 3 and rep.requests % 50 == 0 and rep.requests >= 50
