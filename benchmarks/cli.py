"""Command line: parse flags, run both groups in one process, print the table, write the JSON."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from benchmarks import asgi_bench, decision_bench, replay_bench
from benchmarks.report import show, write_json
from benchmarks.results import HarnessError
from benchmarks.settings import DEFAULT_OUT, Settings, quick


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="gw467 benchmarks: in-process ASGI cost per request and decision cost at scale. "
        "Reports figures; never asserts speed.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run, a few seconds)")
    parser.add_argument("--reps", type=_positive, help="repetitions per variant (default 5; quick 3)")
    parser.add_argument("--requests", type=_positive, help="ASGI requests per repetition (default 20000)")
    parser.add_argument("--decisions", type=_positive, help="decide() calls per repetition (default 100000)")
    parser.add_argument("--templates", type=_positive, help="large catalogue size (default 10000)")
    parser.add_argument("--keys", type=_positive, help="large key-table size (default 1000000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    settings = Settings(out=args.out)
    if args.quick:
        settings = quick(settings)
    overrides = {
        "reps": args.reps,
        "requests": args.requests,
        "decisions": args.decisions,
        "large_templates": args.templates,
        "large_keys": args.keys,
    }
    return replace(settings, **{name: value for name, value in overrides.items() if value is not None})


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    started = time.perf_counter()
    when = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        measurements = [*asgi_bench.run(settings), *decision_bench.run(settings), *replay_bench.run(settings)]
    except HarnessError as error:
        print(f"benchmarks FAILED: {error}", file=sys.stderr)
        return 1
    wall = time.perf_counter() - started
    meta = {
        "started": when,
        "wall_seconds": wall,
        "settings": {**asdict(settings), "out": str(settings.out)},
        "python": platform.python_version(),
        "starlette": version("starlette"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }
    write_json(settings.out, measurements, meta)
    caption = (
        f"median/min/max of {settings.reps} interleaved reps; {settings.requests:,} requests or "
        f"{settings.decisions:,} decisions per rep\nwall {wall:.1f} s; JSON written to {settings.out}"
    )
    show(measurements, "gw467 benchmarks" + (" (--quick)" if settings.quick else ""), caption)
    return 0
