"""`gw467 matrix FILE [--against OTHER]`: the client x surface decision matrix, drawn."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gateway.cli.console import compact_table, report_console, shown
from gateway.cli.errors import EXIT_OK
from gateway.cli.inputs import PLAN_FILE_HELP, plan_file
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.safety.matrix import Cell, Matrix, Row, decision_matrix

# Columns between two table columns: one padding space after a column, and the box's separator.
GAP = 2


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


def render_matrix(matrix: Matrix, width: int) -> Group:
    """The matrix in as many tables as it takes to fit `width` columns, each repeating the client
    columns beside the next surfaces: no header is cut, whatever the number of surfaces."""
    title = shown(matrix.version)
    if matrix.against:
        title += (
            f"  (against {shown(matrix.against)}: [bold magenta]▼[/] lost, [bold magenta]▲[/] gained, "
            "[bold magenta]*[/] a client new in this file)"
        )
    clients = _width("client", (_client(row) for row in matrix.rows))
    judges = _width("judged by", (row.judged_by for row in matrix.rows))
    groups: list[list[str]] = [[]]
    used = clients + GAP + judges
    for surface in matrix.surfaces:
        column = GAP + _width(surface, (_plain(row.cells[surface]) for row in matrix.rows))
        if groups[-1] and used + column > width:
            groups.append([])
            used = clients + GAP + judges
        groups[-1].append(surface)
        used += column
    parts: list[RenderableType] = []
    for i, surfaces in enumerate(groups):
        parts += [Text("")] if i else []
        parts.append(_table(matrix, surfaces, None if i else title))
    return Group(*parts)


def _table(matrix: Matrix, surfaces: list[str], title: str | None) -> Table:
    table = compact_table(title)
    table.add_column("client", no_wrap=True)
    table.add_column("judged by", no_wrap=True)
    for surface in surfaces:
        table.add_column(escape(surface), justify="center", no_wrap=True)
    for row in matrix.rows:
        party = "" if row.first_party else " [dim](3p)[/]"
        cells = (_cell(row.cells[surface]) for surface in surfaces)
        table.add_row(escape(row.client) + party, escape(row.judged_by), *cells)
    return table


def _client(row: Row) -> str:
    return row.client + ("" if row.first_party else " (3p)")


def _width(header: str, cells: Iterable[str]) -> int:
    return max(cell_len(header), *(cell_len(cell) for cell in cells))


def _marks(cell: Cell) -> str:
    return ("▼" if cell.lost else "") + ("▲" if cell.gained else "") + ("*" if cell.missing_before else "")


def _plain(cell: Cell) -> str:
    marks = _marks(cell)
    return f"{cell.label} {marks}" if marks else cell.label


def _cell(cell: Cell) -> str:
    label = cell.label
    colour = {"allow": "green", "467": "bold red", "-": "dim"}.get(label, "yellow")
    marks = _marks(cell)
    text = f"[{colour}]{label}[/]"
    return f"{text} [bold magenta]{marks}[/]" if marks else text
