"""`gw467 matrix FILE [--against OTHER]`: the client x surface decision matrix, drawn."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

from gateway.cli.console import report_console
from gateway.cli.errors import EXIT_OK
from gateway.cli.inputs import PLAN_FILE_HELP, plan_file
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.safety.matrix import Cell, Matrix, decision_matrix


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
        report_console().print(render_matrix(matrix))
    return EXIT_OK


def render_matrix(matrix: Matrix) -> Table:
    title = f"{matrix.version}" + (f"  (changes against {matrix.against} marked)" if matrix.against else "")
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("client", no_wrap=True)
    table.add_column("judged by", no_wrap=True)
    for surface in matrix.surfaces:
        table.add_column(surface, justify="center", no_wrap=True)
    for row in matrix.rows:
        party = "" if row.first_party else " [dim](3p)[/]"
        table.add_row(
            row.client + party,
            escape(row.judged_by),
            *(_cell(row.cells[s]) for s in matrix.surfaces),
        )
    return table


def _cell(cell: Cell) -> str:
    label = cell.label
    colour = {"allow": "green", "467": "bold red", "-": "dim"}.get(label, "yellow")
    marks = ("▼" if cell.lost else "") + ("▲" if cell.gained else "") + ("*" if cell.missing_before else "")
    text = f"[{colour}]{label}[/]"
    return f"{text} [bold magenta]{marks}[/]" if marks else text
