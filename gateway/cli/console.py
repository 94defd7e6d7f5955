"""The console every report prints to: rich, and wide enough when piped that tables do not wrap."""

from __future__ import annotations

from rich.console import Console

PIPED_WIDTH = 200


def report_console() -> Console:
    """A console for reports; when output is piped (make, CI logs), PIPED_WIDTH columns at least."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, PIPED_WIDTH))
    return console
