"""Showing a `Matrix`: client rows by surface columns, in as many tables as the width takes, the
cells a comparison changed marked."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gateway.safety.matrix import Cell, Matrix, Row
from gateway.terminal.console import compact_table, shown

# Columns between two table columns: one padding space after a column, and the box's separator.
GAP = 2


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
