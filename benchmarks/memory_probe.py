"""`python -m benchmarks.memory_probe --templates T --keys K [--trace]`: build and compile one synthetic
plan set in this fresh process and print, as JSON, the times and the resident memory each step took.

A fresh process, so nothing an earlier benchmark allocated or freed blurs the RSS figures. `--trace`
compiles a second time under tracemalloc (about three times slower) for Python's own count of the peak.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from typing import Any

from benchmarks.procfs import peak_rss_bytes, reset_peak_rss, rss_bytes
from benchmarks.synthetic import build_case
from gateway.core.compiler import compile_plan_set

PROGRESS_FROM = 100_000


def _rss() -> int:
    gc.collect()
    value = rss_bytes()
    if value is None:
        raise SystemExit("memory_probe: /proc/self/status is not readable (Linux only)")
    return value


def probe(templates: int, keys: int, trace: bool) -> dict[str, Any]:
    baseline = _rss()
    peak_reset = reset_peak_rss()
    started = time.perf_counter()
    case = build_case(templates, keys, progress=keys >= PROGRESS_FROM)
    built = time.perf_counter()
    with_plan_set = _rss()
    table = compile_plan_set(case.plan_set)
    compiled = time.perf_counter()
    with_table = _rss()
    peak = peak_rss_bytes()
    figures: dict[str, Any] = {
        "templates": templates,
        "keys": keys,
        "plan_set_seconds": built - started,
        "compile_seconds": compiled - built,
        "baseline_rss_bytes": baseline,
        "plan_set_rss_bytes": with_plan_set - baseline,
        "table_rss_bytes": with_table - with_plan_set,
        "peak_rss_growth_bytes": None if peak is None else peak - baseline,
        "peak_reset": peak_reset,
    }
    if trace:
        del table
        gc.collect()
        tracemalloc.start()
        table = compile_plan_set(case.plan_set)
        traced_retained, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures["traced_peak_bytes"] = traced_peak
        figures["traced_retained_bytes"] = traced_retained
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_probe", description=__doc__)
    parser.add_argument("--templates", type=int, required=True, help="endpoint templates in the plan set")
    parser.add_argument("--keys", type=int, required=True, help="clients (one key each) in the plan set")
    parser.add_argument("--trace", action="store_true", help="also compile under tracemalloc")
    args = parser.parse_args(argv)
    print(json.dumps(probe(args.templates, args.keys, args.trace)))


if __name__ == "__main__":
    main()
