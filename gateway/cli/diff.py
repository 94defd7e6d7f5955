"""`gw467 diff OLD NEW`: the blast radius of a plan change, as a report and an exit code for CI."""

from __future__ import annotations

import argparse
import json
from typing import Any

from gateway.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from gateway.cli.inputs import plan_file
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.safety.diff import GrantDiff, diff_tables, read_traffic_log, weigh
from gateway.safety.diff_report import diff_json, render_diff
from gateway.terminal.console import report_console

FIRST_PARTY_LOSS = "first-party-loss"
ANY_LOSS = "any-loss"


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add `diff` to a command line's subcommands."""
    diff = commands.add_parser(
        "diff",
        help="every grant each client loses or gains between two plan files; exit 1 on a first-party loss",
        description=(
            "Compare what the gateway would decide under OLD and under NEW, for every client and "
            "every endpoint of both files (matched by id), and list each grant lost or gained: "
            "first-party losses first. Exit 0 when no first-party client loses anything, 1 when "
            "one does (see --fail-on), 2 when a file cannot be used."
        ),
    )
    diff.add_argument(
        "old", metavar="OLD", type=plan_file, help="plan file in force now (a path or a shipped name)"
    )
    diff.add_argument("new", metavar="NEW", type=plan_file, help="plan file about to ship")
    diff.add_argument(
        "--format", choices=("table", "json"), default="table", help="stdout: report tables or JSON"
    )
    diff.add_argument(
        "--fail-on",
        choices=(FIRST_PARTY_LOSS, ANY_LOSS),
        default=FIRST_PARTY_LOSS,
        help="which losses make the exit code 1 (default: first-party-loss; "
        "any-loss also fails on intended third-party changes)",
    )
    diff.add_argument(
        "--traffic",
        metavar="FILE",
        help='JSON-lines request log ({"client", "method", "path", "time"} per line, as written by '
        "gw467 traffic): add the requests per minute that would fail",
    )
    diff.add_argument(
        "--traffic-minutes",
        type=_positive_minutes,
        metavar="N",
        help="minutes the --traffic log covers (default: from its first to its last time, at least 1)",
    )
    diff.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.traffic_minutes is not None and args.traffic is None:
        raise UsageError("gw467 diff: error: --traffic-minutes needs --traffic FILE (see gw467 diff --help)")
    old = compile_plan_set(load_plan_set(args.old))
    new = compile_plan_set(load_plan_set(args.new))
    diff = diff_tables(old, new)
    weights = None
    if args.traffic is not None:
        weights = weigh(diff, old, new, read_traffic_log(args.traffic), args.traffic_minutes)
    if args.format == "json":
        print(json.dumps(diff_json(diff, weights), indent=2))
    else:
        report_console().print(render_diff(diff, weights))
    return EXIT_FAILED if fails(diff, args.fail_on) else EXIT_OK


def fails(diff: GrantDiff, fail_on: str) -> bool:
    """Whether the change fails the gate: any first-party loss, or with `any-loss` any loss at all."""
    return bool(diff.first_party_losses if fail_on == FIRST_PARTY_LOSS else diff.losses)


def _positive_minutes(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not minutes > 0 or minutes == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of minutes")
    return minutes
