"""`python -m benchmarks.loadtest_bench` (`make loadtest-bench`): Locust at a fixed offered load below
saturation, once against the bare app under uvicorn and once against the gateway; figures as information.

Each server is a `benchmarks.serve` subprocess pinned to one core, Locust (`--processes`, headless, on
127.0.0.1) runs on the other. Reported per server: achieved requests per second, p50 and p99 latency
(all requests, and the allowed ones alone), the answers by status, and the CPU share of the server
and of the load generator over the steady part of the run, so that a saturated client is not taken
for a slow server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.procfs import CLOCK_TICKS_PER_SECOND, cpu_ticks
from benchmarks.serve import HOST
from benchmarks.server_bench import pinning
from benchmarks.settings import ALLOWING_PLANS, ROOT
from loadtests.server import free_port, stop_process

PROG = "python -m benchmarks.loadtest_bench"
# Not imported here: importing Locust monkey-patches the standard library with gevent.
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
# How this process and the locustfile talk: the JSON report's path, and a file touched when load begins.
REPORT_VARIABLE = "GW467_BENCH_LOCUST_REPORT"
STARTED_VARIABLE = "GW467_BENCH_LOCUST_STARTED"
# Users are all spawned within a second; CPU is read from this long after the load begins ...
SETTLE_SECONDS = 2.0
# ... until this long before it ends.
TAIL_SECONDS = 1.0
STARTUP_TIMEOUT = 60.0


class BenchError(RuntimeError):
    """A run that could not start or finish; the message is one line."""


@dataclass(frozen=True)
class Target:
    """A server to load: the `benchmarks.serve` app and the plan it enforces (None: no gateway)."""

    name: str
    app: str
    plan: Path | None


TARGETS = (Target("bare", "bare", None), Target("gateway", "gateway", ALLOWING_PLANS))


def _tree(root: int) -> list[int]:
    """`root` and every process descended from it (Locust's --processes forks its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(text[text.rfind(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def _ticks(pids: list[int]) -> dict[int, int]:
    ticks = {}
    for pid in pids:
        try:
            ticks[pid] = cpu_ticks(pid)
        except OSError:
            continue  # exited between listing and reading
    return ticks


def _cpu_share(before: dict[int, int], after: dict[int, int], seconds: float) -> float:
    """CPU seconds per second over the processes seen at the end (one that forked in between from 0)."""
    used = sum(ticks - before.get(pid, 0) for pid, ticks in after.items())
    return used / CLOCK_TICKS_PER_SECOND / seconds


def _stop_tree(process: subprocess.Popen[Any]) -> None:
    """Stop Locust's master, then any forked worker it left behind (one that never connected lingers)."""
    workers = [pid for pid in _tree(process.pid) if pid != process.pid]
    stop_process(process)
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def _wait_until_listening(port: int, server: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if server.poll() is not None:
            raise BenchError(f"server exited with code {server.returncode}; see {log}")
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"server did not listen on {HOST}:{port} within {STARTUP_TIMEOUT:.0f} s"
                ) from None
            time.sleep(0.05)


def run_target(target: Target, args: argparse.Namespace, server_cpu: int | None) -> dict[str, Any]:
    out: Path = args.out_dir
    port, master_port = free_port(), free_port()
    server_log = out / f"loadtest-bench-{target.name}-server.log"
    locust_log = out / f"loadtest-bench-{target.name}-locust.log"
    report = out / f"loadtest-bench-{target.name}.json"
    started_marker = out / f"loadtest-bench-{target.name}.started"
    report.unlink(missing_ok=True)
    started_marker.unlink(missing_ok=True)
    serve = [sys.executable, "-m", "benchmarks.serve", target.app, "--port", str(port)]
    if server_cpu is not None:
        serve += ["--cpu", str(server_cpu)]
    locust = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        f"http://{HOST}:{port}",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
        "--run-time",
        f"{args.duration}s",
        "--processes",
        str(args.processes),
        "--master-bind-host",
        HOST,
        "--master-bind-port",
        str(master_port),
        # The forked workers take --master-port, not the master's bind port.
        "--master-port",
        str(master_port),
        "--only-summary",
        "--user-rate",
        f"{args.user_rate:g}",
        "--plan",
        str(target.plan or ""),
    ]
    environment = {
        **os.environ,
        REPORT_VARIABLE: str(report),
        STARTED_VARIABLE: str(started_marker),
    }
    with server_log.open("wb") as output:
        server = subprocess.Popen(serve, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    swarm: subprocess.Popen[Any] | None = None
    try:
        _wait_until_listening(port, server, server_log)
        with locust_log.open("wb") as output:
            swarm = subprocess.Popen(
                locust, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + args.duration + STARTUP_TIMEOUT
        while not started_marker.exists():
            if swarm.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"Locust did not start the load; see {locust_log}")
            time.sleep(0.05)
        time.sleep(SETTLE_SECONDS)
        window_start = time.monotonic()
        client_before, server_before = _ticks(_tree(swarm.pid)), cpu_ticks(server.pid)
        time.sleep(max(0.5, args.duration - SETTLE_SECONDS - TAIL_SECONDS))
        window = time.monotonic() - window_start
        client_after, server_after = _ticks(_tree(swarm.pid)), cpu_ticks(server.pid)
        try:
            swarm.wait(timeout=args.duration + STARTUP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise BenchError(f"Locust did not finish; see {locust_log}") from None
    finally:
        if swarm is not None:
            _stop_tree(swarm)
        stop_process(server)
        started_marker.unlink(missing_ok=True)
    if not report.exists():
        raise BenchError(f"Locust exited with code {swarm.returncode} and wrote no report; see {locust_log}")
    document: dict[str, Any] = json.loads(report.read_text())
    document["locust_exit_code"] = swarm.returncode
    document["client_cpu_share"] = _cpu_share(client_before, client_after, window)
    document["server_cpu_share"] = (server_after - server_before) / CLOCK_TICKS_PER_SECOND / window
    document["cpu_window_seconds"] = window
    document["offered_per_second"] = args.users * args.user_rate
    return document


def _milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def show(results: dict[str, dict[str, Any]], note: str) -> str:
    header = ("server", "offered", "achieved", "p50", "p99", "p50 allowed", "p99 allowed", "answers")
    rows: list[tuple[str, ...]] = [(*header, "locust CPU", "server CPU", "failures")]
    for name, result in results.items():
        latency = result["latency_ms"]
        answers = ", ".join(
            f"{key} {status}: {count:,}"
            for key, statuses in sorted(result["statuses"].items())
            for status, count in sorted(statuses.items())
        )
        rows.append(
            (
                name,
                f"{result['offered_per_second']:,.0f}/s",
                f"{result['requests'] / result['seconds']:,.0f}/s" if result["seconds"] else "-",
                _milliseconds(latency["all"]["p50"]),
                _milliseconds(latency["all"]["p99"]),
                _milliseconds(latency.get("allowed", {}).get("p50")),
                _milliseconds(latency.get("allowed", {}).get("p99")),
                answers,
                f"{result['client_cpu_share']:.0%}",
                f"{result['server_cpu_share']:.0%}",
                f"{result['locust']['failures']:,}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join([*lines, note])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Locust (FastHttpUser, headless, 127.0.0.1) at a fixed offered load against the bare app "
        "and against the gateway, each under uvicorn; prints p50/p99 latency, achieved rate and CPU shares. "
        "Information only: nothing is asserted beyond every answer being the expected one.",
    )
    parser.add_argument("--users", type=int, default=40, help="Locust users (default 40)")
    parser.add_argument(
        "--user-rate",
        type=float,
        default=25.0,
        help="requests per second per user (default 25; offered load = users x this, below saturation)",
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds per server (default 20)")
    parser.add_argument("--processes", type=int, default=1, help="Locust worker processes (default 1)")
    parser.add_argument(
        "--out", type=Path, default=Path("out") / "loadtest-bench.json", help="JSON report (default out/...)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (
        args.users < 1
        or args.user_rate <= 0
        or args.processes < 1
        or args.duration <= SETTLE_SECONDS + TAIL_SECONDS
    ):
        print(f"{PROG}: error: give users, rate and processes >= 1 and a duration over 3 s", file=sys.stderr)
        return 2
    args.out_dir = args.out.parent.resolve()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    cores = pinning()
    print(
        f"locust: {args.users} users x {args.user_rate:g} req/s = {args.users * args.user_rate:,.0f} req/s "
        f"offered, {args.duration} s per server, {args.processes} worker process(es); {cores.note}",
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    previous = os.sched_getaffinity(0)
    try:
        # Locust inherits this process's core; each server pins itself with --cpu.
        if cores.client_cpu is not None:
            os.sched_setaffinity(0, {cores.client_cpu})
        for target in TARGETS:
            print(f"  {target.name} ...", flush=True)
            results[target.name] = run_target(target, args, cores.server_cpu)
    except BenchError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    finally:
        os.sched_setaffinity(0, previous)
    for result in results.values():
        result["requests"] = result["latency_ms"]["all"]["requests"]
    note = (
        "latency as Locust's client sees it (includes the client's own time); CPU over the steady part of "
        f"the run; {cores.note}"
    )
    print(show(results, note))
    args.out.write_text(
        json.dumps({"settings": {k: str(v) for k, v in vars(args).items()}, **results}, indent=2)
    )
    print(f"JSON written to {args.out}")
    failed = {
        name: result["locust"]["failures"] for name, result in results.items() if result["locust"]["failures"]
    }
    if failed:
        print(f"{PROG}: unexpected answers: {failed}; see out/loadtest-bench-*-locust.log", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
