"""`python -m benchmarks.memory_probe --templates T --keys K [--trace] [--decisions N --reps R]`: build
and compile one synthetic plan set in this fresh process and print, as JSON, the times and the resident
memory each step took.

A fresh process, so nothing an earlier benchmark allocated or freed blurs the RSS figures. `--trace`
compiles a second time under tracemalloc (about three times slower) for Python's own count of the peak.
`--decisions` then times decide() on the table, interleaved rep by rep with a table of the same
catalogue and 100 keys built in this process, so a table too large to build twice is timed here.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from typing import Any

from benchmarks.decision_bench import check_allowed, time_decisions
from benchmarks.procfs import peak_rss_bytes, reset_peak_rss, rss_bytes
from benchmarks.stats import Series
from benchmarks.synthetic import Case, build_case
from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable

PROGRESS_FROM = 100_000
REFERENCE_KEYS = 100


def _rss() -> int:
    gc.collect()
    value = rss_bytes()
    if value is None:
        raise SystemExit("memory_probe: /proc/self/status is not readable (Linux only)")
    return value


def decision_times(case: Case, table: DecisionTable, decisions: int, reps: int) -> dict[str, Any]:
    """ns per decision on `table` and on a 100-key table of the same catalogue, rep by rep."""
    reference = build_case(len(case.plan_set.endpoints), REFERENCE_KEYS)
    reference_table = compile_plan_set(reference.plan_set)
    pairs = ((case, table, "large"), (reference, reference_table, "reference"))
    series = {name: Series() for _, _, name in pairs}
    for timed, timed_table, _ in pairs:
        check_allowed(timed, timed_table, f"memory probe, {len(timed.plan_set.clients):,} keys")
        time_decisions(timed, timed_table, max(1, decisions // 10))
    gc.collect()
    gc.freeze()  # keep the collector from walking the large table while timing
    for _ in range(reps):
        for timed, timed_table, name in pairs:
            series[name].add(time_decisions(timed, timed_table, decisions), decisions)
    gc.unfreeze()
    return {
        "decide_ns": series["large"].per_op_ns,
        "reference_decide_ns": series["reference"].per_op_ns,
        "reference_keys": REFERENCE_KEYS,
        "decisions_per_rep": decisions,
    }


def probe(templates: int, keys: int, trace: bool, decisions: int = 0, reps: int = 0) -> dict[str, Any]:
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
    if decisions:
        figures.update(decision_times(case, table, decisions, reps))
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_probe", description=__doc__)
    parser.add_argument("--templates", type=int, required=True, help="endpoint templates in the plan set")
    parser.add_argument("--keys", type=int, required=True, help="clients (one key each) in the plan set")
    parser.add_argument("--trace", action="store_true", help="also compile under tracemalloc")
    parser.add_argument("--decisions", type=int, default=0, help="decide() calls per rep (default: none)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of the decision timing")
    args = parser.parse_args(argv)
    print(json.dumps(probe(args.templates, args.keys, args.trace, args.decisions, args.reps)))


if __name__ == "__main__":
    main()
