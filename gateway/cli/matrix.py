"""`gw467 matrix FILE [--against OTHER]`: the client x surface decision matrix, drawn."""

from __future__ import annotations

import argparse
import json
from typing import Any

from gateway.cli.errors import EXIT_OK
from gateway.cli.inputs import PLAN_FILE_HELP, plan_file
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.safety.matrix import decision_matrix
from gateway.safety.matrix_report import render_matrix
from gateway.terminal.console import report_console


def register(commands: argparse._SubParsersAction[Any]) -> None:
    matrix = commands.add_parser("matrix", help="client x surface decision matrix of a plan file")
    matrix.add_argument("file", metavar="FILE", type=plan_file, help=PLAN_FILE_HELP)
    matrix.add_argument(
        "--against", metavar="OTHER", type=plan_file, help="mark cells that differ from this plan file"
    )
    matrix.add_argument("--format", choices=("table", "json"), default="table")
    matrix.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    table = compile_plan_set(load_plan_set(args.file))
    against = compile_plan_set(load_plan_set(args.against)) if args.against else None
    matrix = decision_matrix(table, against)
    if args.format == "json":
        print(json.dumps(matrix.to_json(), indent=2))
    else:
        console = report_console()
        console.print(render_matrix(matrix, console.width))
    return EXIT_OK
