"""A command's output files: checked when the command line is read, written whole or not at all.

The directory must exist (creating one the user did not ask for hides a typo); the file is
written to a temporary beside it that replaces it in one step (os.replace).
"""

from __future__ import annotations

import argparse
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.cli.errors import UsageError


def output_path(text: str) -> str:
    """An argparse type: a file that can be written (its directory exists; it is not a directory)."""
    target = Path(text)
    parent = target.parent
    if target.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory; give a file name")
    if not parent.exists():
        raise argparse.ArgumentTypeError(f"{text}: directory {parent} does not exist (create it first)")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {parent} is not a directory")
    if not os.access(parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: cannot write in {parent}")
    return text


def output_with_suffix(suffix: str) -> Callable[[str], str]:
    """An argparse type: `output_path` whose name must end in `suffix` (e.g. '.png')."""

    def check(text: str) -> str:
        if Path(text).suffix.lower() != suffix:
            raise argparse.ArgumentTypeError(f"{text}: the file name must end in {suffix}")
        return output_path(text)

    return check


def write_text(path: str, text: str) -> None:
    with replacing(path) as temporary:
        temporary.write_text(text)


@contextmanager
def replacing(path: str) -> Iterator[Path]:
    """A temporary path beside `path` to write to; it replaces `path` when the block ends well.

    On any error or interrupt the temporary file is removed and `path` is left as it was.
    A link is followed (the file it points to is replaced, not the link), and a device or a
    pipe (`--json /dev/stdout`) is written in place: a stream cannot be replaced.
    """
    target = Path(path).resolve()
    if target.exists() and not target.is_file():
        with _one_line_errors(path):
            yield target
        return
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp{target.suffix}")
    with _one_line_errors(path):
        try:
            # Created here with the user's umask (0o666 before it), as a plain open would.
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            yield temporary
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)


@contextmanager
def _one_line_errors(path: str) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise UsageError(f"gw467: error: cannot write {path}: {error.strerror}") from None
