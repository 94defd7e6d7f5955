"""Smoke test of the benchmark harness: a --quick run writes every figure; no speed is asserted."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.cli import main

TIMINGS = {
    "asgi.bare",
    "asgi.noop",
    "asgi.gateway_allowed",
    "asgi.gateway_467",
    "asgi.basehttp_gateway",
    "decide.templates_small",
    "decide.templates_large",
    "decide.keys_small",
    "decide.keys_large",
}
INFO = {
    "build.templates_large.compile",
    "build.keys_large.plan_set",
    "build.keys_large.compile",
    "build.keys_large.rss_growth",
}


def test_quick_run_writes_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"

    assert main(["--quick", "--out", str(out)]) == 0

    measurements = json.loads(out.read_text())["measurements"]
    assert not (TIMINGS | INFO) - set(measurements), "measurements missing from the JSON"
    for name in TIMINGS:
        figure = measurements[name]
        assert len(figure["samples"]) == 3, name
        assert all(figure[field] > 0 for field in ("median", "min", "max", "ratio")), name
        assert all(sample > 0 for sample in figure["samples"]), name
    for name in INFO - {"build.keys_large.rss_growth"}:
        assert measurements[name]["median"] > 0, name
    # RSS growth is information: at --quick sizes the allocator may reuse freed memory.
    assert isinstance(measurements["build.keys_large.rss_growth"]["median"], float)
    assert measurements["asgi.bare"]["ratio"] == 1.0
    assert measurements["asgi.gateway_467"]["details"]["observed_status"] == 467
    assert measurements["asgi.gateway_allowed"]["details"]["observed_status"] == 200
    assert measurements["asgi.basehttp_gateway"]["details"]["observed_status"] == 200
