"""`gw467 check FILE`: validate and compile a plan file; print a one-line summary or the error."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.cli.errors import EXIT_OK
from gateway.cli.inputs import PLAN_FILE_HELP, plan_file
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.terminal.printable import printable


def register(commands: argparse._SubParsersAction[Any]) -> None:
    check = commands.add_parser("check", help="validate a plan file: prints ok and a summary, or the error")
    check.add_argument("file", metavar="FILE", type=plan_file, help=PLAN_FILE_HELP)
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    plan_set = load_plan_set(args.file)
    compile_plan_set(plan_set)
    first_party = sum(client.first_party for client in plan_set.clients)
    exempt = ", ".join(plan_set.policy.exempt) or "none"
    print(
        f"ok {printable(args.file)}: version {printable(plan_set.version)}; "
        f"{len(plan_set.endpoints)} endpoints on {len(plan_set.surfaces)} surfaces, "
        f"{len(plan_set.plans)} plans, {len(plan_set.clients)} clients ({first_party} first-party); "
        f"exempt: {exempt}; "
        f"default plan: {plan_set.policy.default_plan or 'none'}"
    )
    return EXIT_OK
