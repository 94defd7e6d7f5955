"""The console every report prints to: rich, at the terminal's width; when piped, wide enough that
tables do not wrap, unless COLUMNS says how wide. And how a file's own text is shown on it."""

from __future__ import annotations

import os

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.terminal.printable import printable

PIPED_WIDTH = 200


class ReportConsole(Console):
    """rich's console, leaving a closed stdout (`| head`) to `gateway.cli.main`, as every
    command's output does, rather than rich's own exit with status 1."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def report_console() -> Console:
    """A console for reports. On a terminal, its width; piped (make, CI logs), PIPED_WIDTH columns at
    least, unless COLUMNS is set: a user who sets it (COLUMNS=100 gw467 ... | less) asks for that."""
    console = ReportConsole(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = ReportConsole(highlight=False, width=max(console.width, PIPED_WIDTH))
    return console


def compact_table(title: str | None) -> Table:
    """The reports' table: a rule under the header, one space after each column and none before,
    no outer edge, so 80 columns hold what a wider border would push off the line."""
    return Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        show_edge=False,
        pad_edge=False,
    )


def shown(text: str) -> str:
    """`printable(text)` for rich markup: `[bold]` in a file is printed as written, not as a style."""
    return escape(printable(text))
