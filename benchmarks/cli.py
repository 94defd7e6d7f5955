"""Command line: parse flags, run the groups in one process, print both tables, write the JSON."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from benchmarks import (
    asgi_bench,
    decision_bench,
    hot_path_parts,
    hot_path_profile,
    impact_bench,
    memory_bench,
    pure_bench,
    replay_bench,
    server_bench,
    store_bench,
    validation_bench,
    workers_bench,
)
from benchmarks.report import parts_table, profile_table, show, table, targets_table, write_json
from benchmarks.results import HarnessError, Measurement
from benchmarks.settings import DEFAULT_OUT, GROUPS, Settings, quick
from benchmarks.targets import judge_all
from gateway.hot_path import running_compiled

# The in-process targets: a miss of any of them prints where an allowed request's time goes.
PROFILED_TARGETS = ("gateway_allowed_overhead", "gateway_metrics_overhead", "denial_cost")

RUNNERS: dict[str, Callable[[Settings], list[Measurement]]] = {
    "asgi": asgi_bench.run,
    "pure": pure_bench.run,
    "decide": decision_bench.run,
    "replay": replay_bench.run,
    "server": server_bench.run,
    "workers": workers_bench.run,
    "memory": memory_bench.run,
    "store": store_bench.run,
    "validate": validation_bench.run,
    "impact": impact_bench.run,
}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _groups(text: str) -> tuple[str, ...]:
    chosen = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(set(chosen) - set(GROUPS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {','.join(GROUPS)}; got {text!r}")
    return tuple(name for name in GROUPS if name in chosen)


def parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="gw467 benchmarks: in-process ASGI cost per request, decision cost at scale, the "
        "replay's rate, server CPU per request under uvicorn, compile time and memory. Every figure is a "
        "ratio within the run; targets are reported as pass or miss, never asserted.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (smoke run, seconds; its pass/miss means nothing)"
    )
    parser.add_argument("--reps", type=_positive, help="repetitions per variant (default 5; quick 3)")
    parser.add_argument(
        "--requests", type=_positive, help="in-process requests per repetition (default 20000)"
    )
    parser.add_argument("--decisions", type=_positive, help="decide() calls per repetition (default 100000)")
    parser.add_argument("--templates", type=_positive, help="large catalogue size (default 10000)")
    parser.add_argument("--keys", type=_positive, help="large key-table size (default 1000000)")
    parser.add_argument("--templates-xlarge", type=_positive, help="xlarge catalogue size (default 100000)")
    parser.add_argument(
        "--xlarge-keys",
        type=_positive,
        metavar="N",
        help="also build a table of N keys (10000000 for the 10M-key figure: 4 to 6 minutes and 8 GiB) "
        "in a fresh process; its memory, and decide() on it against 100 keys (default: not built)",
    )
    parser.add_argument(
        "--server-requests", type=_positive, help="requests per repetition under uvicorn (default 20000)"
    )
    parser.add_argument("--connections", type=_positive, help="load client connections (default 8)")
    parser.add_argument(
        "--impact-lines",
        type=_positive,
        metavar="N",
        help="lines in each generated log of the impact group (default 1000000; 10000000 for the 10M figure)",
    )
    parser.add_argument(
        "--groups",
        type=_groups,
        default=GROUPS,
        help=f"comma-separated groups to run (default all: {','.join(GROUPS)}); "
        "targets on groups left out are n/a",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    settings = Settings(out=args.out, groups=args.groups)
    if args.quick:
        settings = quick(settings)
    overrides = {
        "reps": args.reps,
        "requests": args.requests,
        "decisions": args.decisions,
        "large_templates": args.templates,
        "large_keys": args.keys,
        "xlarge_templates": args.templates_xlarge,
        "xlarge_keys": args.xlarge_keys,
        "server_requests": args.server_requests,
        "server_connections": args.connections,
        "impact_lines": args.impact_lines,
    }
    return replace(settings, **{name: value for name, value in overrides.items() if value is not None})


def _caption(settings: Settings, measurements: list[Measurement], wall: float) -> str:
    control = settings.requests // asgi_bench.CONTROL_SHARE
    lines = [
        f"median/min/max of {settings.reps} interleaved reps: {settings.requests:,} in-process requests "
        f"(the BaseHTTPMiddleware control: {control:,}), {settings.decisions:,} decisions, "
        + ("one replay of the scenario's first minutes" if settings.quick else "one full replay"),
    ]
    server = next((m for m in measurements if m.name == "server.bare"), None)
    if server is not None:
        lines.append(
            f"uvicorn: {settings.server_requests:,} requests per rep over {settings.server_connections} "
            f"keep-alive connections; {server.details['pinning']}"
        )
    if "workers" in settings.groups:
        lines.append(f"workers: 1, 2 and 4 uvicorn workers, unpinned; {workers_bench.cores_note()}")
    if "memory" in settings.groups:
        lines.append("compile and memory rows: one fresh process each, measured once")
    compiled = running_compiled()
    lines.append(
        f"hot path: {len(compiled)} modules compiled by mypyc"
        if compiled
        else "hot path: Python sources (make compile builds the compiled modules)"
    )
    lines.append(f"wall {wall:.1f} s; JSON written to {settings.out}")
    return "\n".join(lines)


def _commit() -> str:
    """The checkout's commit, `+changes` when files differ: the docs name where figures came from."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + ("+changes" if dirty else "")


def _processor() -> str:
    """The CPU model as /proc/cpuinfo names it (platform.processor() is empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    started = time.perf_counter()
    when = datetime.now(UTC).isoformat(timespec="seconds")
    commit = _commit()  # before the run: the code measured is what was checked out when it began
    measurements: list[Measurement] = []
    try:
        for group in settings.groups:
            measurements += RUNNERS[group](settings)
    except HarnessError as error:
        print(f"benchmarks FAILED: {error}", file=sys.stderr)
        return 1
    wall = time.perf_counter() - started
    judgements = judge_all(measurements, settings)
    meta = {
        "started": when,
        "wall_seconds": wall,
        "settings": {**asdict(settings), "out": str(settings.out)},
        "python": platform.python_version(),
        "starlette": version("starlette"),
        "uvicorn": version("uvicorn"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "processor": _processor(),
        "host": platform.node(),
        "system": platform.platform(),
        "commit": commit,
        "compiled_modules": running_compiled(),
    }
    missed = [j.target.name for j in judgements if j.result == "miss" and j.target.name in PROFILED_TARGETS]
    profile_rows: list[hot_path_profile.Row] = []
    by_place: dict[str, float] = {}
    parts: list[hot_path_parts.Part] = []
    if missed and not settings.quick:
        print(f"profile: {', '.join(missed)} missed; profiling the allowed request", file=sys.stderr)
        profile_rows, by_place = hot_path_profile.profile(settings.requests)
        parts = hot_path_parts.parts(settings.requests)
        meta["profile"] = {
            "by_place": by_place,
            "top": [asdict(row) for row in profile_rows],
            "parts_ns": {part.name.strip(): part.nanoseconds for part in parts},
            "tried": list(hot_path_parts.TRIED),
        }
    write_json(settings.out, measurements, judgements, meta)
    suffix = " (--quick)" if settings.quick else ""
    show(
        table(measurements, "gw467 benchmarks" + suffix, _caption(settings, measurements, wall)),
        targets_table(
            judgements,
            "gw467 targets" + suffix,
            "a miss is reported, never asserted"
            + ("; --quick sizes are too small for pass/miss to mean anything" if settings.quick else ""),
        ),
        *([profile_table(profile_rows, by_place, settings.requests)] if profile_rows else []),
        *([parts_table(parts, hot_path_parts.TRIED)] if parts else []),
    )
    return 0
