"""The log files an impact run reads: files, globs and directories, plain or gzip (by content)."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

MAX_FILES = 100_000
GZIP_MAGIC = b"\x1f\x8b"


class SourceError(ValueError):
    """A LOG argument that names nothing readable; the message is one line."""


@dataclass(frozen=True)
class LogFile:
    path: str
    gzip: bool


def log_files(arguments: list[str]) -> tuple[LogFile, ...]:
    """Every file the arguments name, in a stable order (a directory: the files under it)."""
    found: dict[str, None] = {}
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            names = sorted(
                str(entry) for entry in path.rglob("*") if entry.is_file() and not entry.name.startswith(".")
            )
        elif path.is_file():
            names = [argument]
        else:
            names = sorted(name for name in glob.glob(argument, recursive=True) if Path(name).is_file())
            if not names:
                raise SourceError(
                    f"{argument}: no such log file (nor a directory or a glob that matches one)"
                )
        for name in names:
            found[name] = None
        if len(found) > MAX_FILES:
            raise SourceError(f"{argument}: more than {MAX_FILES} log files")
    if not found:
        raise SourceError(f"{' '.join(arguments)}: no log file there")
    return tuple(LogFile(name, _is_gzip(name)) for name in found)


def _is_gzip(name: str) -> bool:
    try:
        with open(name, "rb") as stream:
            return stream.read(2) == GZIP_MAGIC
    except OSError as error:
        raise SourceError(f"{name}: cannot read: {error.strerror}") from None
