"""What a fleet worker trusts: stage documents signed with the fleet secret, and a private state
directory. The store (Redis) carries the fleet's state but is no authority over it: whoever can
write a key there could otherwise put any plan in force on every worker within a second.

- The fleet secret comes from a file (GW467_FLEET_SECRET_FILE, readable by its owner only) or
  from GW467_FLEET_SECRET, never from the command line, where `ps` would show it. Every worker
  of a fleet has the same one.
- A stage document is stored as `<HMAC-SHA256 of the document, hex>\\n<document>`; a worker
  applies only a document whose signature verifies (compared in constant time). Plan texts need
  no signature of their own: the signed document names each by its SHA-256.
- The state directory (last good version) is created 0700 and refused when it is a link, is
  owned by another user, or is writable by group or others; files in it are written 0600
  through a new temporary file (O_EXCL | O_NOFOLLOW), so a planted link is never followed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

SECRET_VARIABLE = "GW467_FLEET_SECRET"
SECRET_FILE_VARIABLE = "GW467_FLEET_SECRET_FILE"
MIN_SECRET_BYTES = 16
SIGNATURE_BYTES = 64  # hex of HMAC-SHA256


class TrustError(Exception):
    """A secret, signature or directory the fleet cannot trust; `str()` is the one line to print."""


def fleet_secret(environment: Mapping[str, str] = os.environ) -> bytes:
    """The fleet secret from GW467_FLEET_SECRET_FILE, else GW467_FLEET_SECRET; TrustError when
    there is none, it is short, or its file may be read by others."""
    path = environment.get(SECRET_FILE_VARIABLE)
    if path:
        secret = owner_only_file(SECRET_FILE_VARIABLE, path)
        where = SECRET_FILE_VARIABLE
    else:
        secret = environment.get(SECRET_VARIABLE, "").encode()
        where = SECRET_VARIABLE
    if not secret:
        raise TrustError(
            "fleet mode needs the fleet secret every worker shares, to sign and check the stage: "
            f"put it in a file only the gateway's user can read and set {SECRET_FILE_VARIABLE} to "
            f"its path (or set {SECRET_VARIABLE})"
        )
    if len(secret) < MIN_SECRET_BYTES:
        raise TrustError(f"{where}: the fleet secret is shorter than {MIN_SECRET_BYTES} bytes")
    return secret


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


def sign(document: bytes, secret: bytes) -> bytes:
    """The document with its signature in front, as it is stored."""
    return _signature(document, secret) + b"\n" + document


def verified(signed: bytes, secret: bytes) -> bytes:
    """The document inside `signed`; TrustError when it is unsigned or signed with another secret."""
    signature, newline, document = signed.partition(b"\n")
    if not newline or len(signature) != SIGNATURE_BYTES:
        raise TrustError("the stage in the store is not signed")
    if not hmac.compare_digest(signature, _signature(document, secret)):
        raise TrustError("the stage in the store is not signed with this fleet's secret")
    return document


def _signature(document: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, document, hashlib.sha256).hexdigest().encode("ascii")


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
