"""The console every report prints to: rich, and wide enough when piped that tables do not wrap."""

from __future__ import annotations

from rich.console import Console

PIPED_WIDTH = 200


class ReportConsole(Console):
    """rich's console, leaving a closed stdout (`| head`) to `gateway.cli.main`, as every
    command's output does, rather than rich's own exit with status 1."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def report_console() -> Console:
    """A console for reports; when output is piped (make, CI logs), PIPED_WIDTH columns at least."""
    console = ReportConsole(highlight=False)
    if not console.is_terminal:
        console = ReportConsole(highlight=False, width=max(console.width, PIPED_WIDTH))
    return console
