"""Writing a command's output files, with one-line errors."""

from __future__ import annotations

from pathlib import Path

from gateway.cli.errors import UsageError


def write_text(path: str, text: str) -> None:
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError as error:
        raise UsageError(f"gw467: error: cannot write {path}: {error.strerror}") from None
