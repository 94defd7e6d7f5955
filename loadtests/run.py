"""`python -m loadtests.run`: serve a plan file on loopback, swarm it with Locust, push a plan mid-run.

Exit code: Locust's (0 gate passed, 1 a first-party request got 467), or 2 for an error
(a bad plan file, a gateway that does not start, a run without a report).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from gateway.core.config import ConfigError
from gateway.core.planfile import load_plan_set
from gateway.replay.scenario import load_scenario
from loadtests import ROOT, SCENARIO
from loadtests.server import Gateway, ServerError, serving
from loadtests.swarm import Swarm, swarming
from loadtests.tally import LoadReport, format_table

PROG = "python -m loadtests.run"
EXIT_ERROR = 2
# Locust's own start-up (and, distributed, waiting for workers) on top of --duration.
STARTUP_ALLOWANCE_SECONDS = 60


class RunError(Exception):
    """A run that cannot start or finish; the message is one line."""


class _Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that every finally block runs."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise RunError(f"{message} (see {PROG} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Start gw467 serve on 127.0.0.1, run the 2023-03-06 traffic model against it with "
        "Locust (headless), optionally push another plan file through the admin API mid-run, and "
        "fail (exit 1) when any first-party request is answered 467.",
    )
    parser.add_argument(
        "--plan",
        type=Path,
        default=Path("plans/2023-02-baseline.toml"),
        metavar="FILE",
        help="plan file the gateway starts with (default: plans/2023-02-baseline.toml)",
    )
    push = parser.add_mutually_exclusive_group()
    push.add_argument(
        "--push",
        type=Path,
        metavar="FILE",
        help="plan file to push to the admin API mid-run, as an operator's deploy would (default: none)",
    )
    push.add_argument("--no-push", dest="push", action="store_const", const=None, help="push nothing")
    parser.add_argument(
        "--push-at",
        type=float,
        metavar="SECONDS",
        help="when to push, in seconds after the load starts (default: half-time)",
    )
    parser.add_argument("--duration", type=int, default=60, metavar="SECONDS", help="run time (default: 60)")
    parser.add_argument("--users", type=int, default=40, help="Locust users (default: 40)")
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=10.0,
        metavar="RATE",
        help="users started per second (default: 10)",
    )
    parser.add_argument(
        "--user-rate",
        type=float,
        default=2.0,
        metavar="RATE",
        help="requests per second each user sends at most (default: 2); offered load <= users x this",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="0: one local Locust process (default); N>0: Locust's distributed mode, a master and N "
        "workers on this machine",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out"), metavar="DIR", help="reports and logs (default: out/)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # make, CI or a timeout may stop us with SIGTERM: unwind, so the finally blocks stop our subprocesses.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        return run(build_parser().parse_args(argv))
    except (RunError, ConfigError, ServerError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; the gateway and Locust were stopped", file=sys.stderr)
        return 130
    except _Terminated:
        print(f"{PROG}: terminated; the gateway and Locust were stopped", file=sys.stderr)
        return 143


def run(args: argparse.Namespace) -> int:
    _check(args)
    # Read both files before starting anything: a bad file is one line and exit 2, not a half-run.
    started_on = load_plan_set(args.plan).version
    if args.push:
        load_plan_set(args.push)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with serving(args.plan, out / "loadtest-server.log") as gateway:
        swarm = Swarm(
            host=gateway.url,
            users=args.users,
            spawn_rate=args.spawn_rate,
            duration=args.duration,
            user_rate=args.user_rate,
            plans=(args.plan.resolve(), *([args.push.resolve()] if args.push else [])),
            workers=args.workers,
            out=out,
        )
        mode = f"a master and {args.workers} workers" if args.workers else "one local process"
        print(f"gateway {gateway.url}: {started_on} ({args.plan})")
        print(
            f"locust: {args.users} users at <= {args.user_rate:g} req/s each, {args.duration} s, {mode}; "
            f"logs in {_shown(out)}/loadtest-*.log",
            flush=True,
        )
        with swarming(swarm) as locust:
            push_at = args.push_at if args.push_at is not None else args.duration / 2
            exit_code = _until_done(locust, swarm, gateway, args.push, push_at)
    return _summarize(swarm, exit_code)


def _until_done(
    locust: subprocess.Popen[Any], swarm: Swarm, gateway: Gateway, push: Path | None, push_at: float
) -> int:
    """Wait for Locust to finish, pushing `push` `push_at` seconds after the load begins; its exit code."""
    deadline = time.monotonic() + swarm.duration + STARTUP_ALLOWANCE_SECONDS
    load_began: float | None = None
    while locust.poll() is None:
        now = time.monotonic()
        if load_began is None and swarm.started_marker.exists():
            load_began = now
        if push and load_began is not None and now - load_began >= push_at:
            active = gateway.push_plans(push)
            print(f"pushed {push} at {now - load_began:.1f} s: {active} is now in force", flush=True)
            push = None
        if gateway.exit_code() is not None:
            # Every request after this fails to connect, which the 467 gate alone would pass.
            raise RunError(f"gw467 serve exited with code {gateway.exit_code()} during the run")
        if now > deadline:
            raise RunError(f"Locust did not finish within {swarm.duration + STARTUP_ALLOWANCE_SECONDS} s")
        time.sleep(0.1)
    if push:
        print(f"{PROG}: note: {push} was not pushed, the run ended first", file=sys.stderr)
    return int(locust.returncode)


def _check(args: argparse.Namespace) -> None:
    classes = len(load_scenario(SCENARIO).traffic)
    if args.users < classes:
        raise RunError(f"--users {args.users}: give at least {classes}, one per client class")
    if args.duration <= 0 or args.spawn_rate <= 0 or args.user_rate <= 0:
        raise RunError("--duration, --spawn-rate and --user-rate must be positive")
    if args.workers < 0:
        raise RunError(f"--workers {args.workers}: give 0 (local) or more")
    if args.push_at is not None and not 0 <= args.push_at < args.duration:
        raise RunError(f"--push-at {args.push_at:g}: give a time within the run (0 to {args.duration} s)")


def _summarize(swarm: Swarm, exit_code: int) -> int:
    if not swarm.report.exists():
        log = swarm.log("master" if swarm.workers else "locust")
        raise RunError(f"Locust exited with code {exit_code} and wrote no report; see {_shown(log)}")
    document = json.loads(swarm.report.read_text())
    report = LoadReport.from_json(document)
    print(f"\nper client class ({report.seconds:.1f} s of load)")
    print(format_table(report))
    requests, failures, per_second = _locust_totals(document)
    print(
        f"locust: {requests:,} requests, {per_second:.1f} req/s, {failures:,} unexpected answers (failures)"
    )
    print(f"gate: {report.verdict}")
    shown = ", ".join(
        _shown(path) for path in (swarm.report, swarm.html, Path(f"{swarm.csv_prefix}_stats.csv"))
    )
    print(f"reports: {shown}")
    print(f"exit {exit_code}")
    return exit_code


def _locust_totals(document: dict[str, Any]) -> tuple[int, int, float]:
    """Requests, failures and requests per second as Locust counted them (the locustfile records them)."""
    totals = document["locust"]
    return int(totals["requests"]), int(totals["failures"]), float(totals["requests_per_second"])


def _shown(path: Path) -> str:
    """A path relative to the project when it is inside it, as make users would type it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


if __name__ == "__main__":
    sys.exit(main())
