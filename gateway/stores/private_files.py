"""Files only this user may read or write: a secret's file, and a private state directory.

- A secret file (the fleet secret, the store's password) is refused when its group or others
  have any access to it.
- A state directory is created 0700 and refused when it is a link, is owned by another user, or
  is writable by group or others; files in it are written 0600 through a new temporary file
  (O_EXCL | O_NOFOLLOW), so a planted link is never followed.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


class TrustError(Exception):
    """A secret, signature or directory the fleet cannot trust; `str()` is the one line to print."""


def owner_only_file(variable: str, path: str) -> bytes:
    """The stripped content of the secret file `variable` names; TrustError when it cannot be
    read or when its group or others have any access to it."""
    try:
        mode = os.stat(path).st_mode
        content = Path(path).read_bytes().strip()
    except OSError as error:
        raise TrustError(f"{variable}={path}: cannot read: {error.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TrustError(
            f"{variable}={path}: readable by others (mode {stat.filemode(mode)}); chmod 600 {path}"
        )
    return content


def private_directory(path: Path) -> Path:
    """`path`, created 0700 if missing; TrustError when it is a link, another user's, or
    writable by group or others (anyone who could plant a last good version there)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError as error:
        raise TrustError(f"state directory {path}: {error.strerror}") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise TrustError(f"state directory {path}: not a directory (a link is not followed)")
    if info.st_uid != os.geteuid():
        raise TrustError(f"state directory {path}: owned by uid {info.st_uid}, not by this user")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise TrustError(
            f"state directory {path}: writable by others (mode {stat.filemode(info.st_mode)}); "
            f"chmod 700 {path}"
        )
    return path


def read_private(path: Path) -> bytes:
    """A file of the state directory, never through a link."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor, "rb") as file:
        return file.read()


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`, 0600, through a new file that no link can redirect."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(scratch, path)  # atomic: a reader sees the old file or the new one
    finally:
        scratch.unlink(missing_ok=True)
