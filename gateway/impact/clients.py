"""The client mapping: which client a log line is from, since logs carry no keys.

A line names its client in a declared field: a logged header (a client-id header), nginx's
`$remote_user`, or the user agent. The field's value is the client id, unless a mapping file
lists user-agent substrings for client ids (the first that the value contains wins):

    field = "http_user_agent"
    [[match]]
    contains = "TwitterAndroid/"
    client = "android"

A line whose field is empty, "-", or matches no entry maps to no client and is not decided.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

MAX_MAPPING_BYTES = 256 * 1024
MAX_MATCHES = 10_000
NO_VALUE = ("", "-")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class ClientMapping:
    """`field`: the field naming the client (None: the format's default); `matches`: (substring,
    client id) in the order they are tried; empty when the field's value is the client id."""

    field: str | None = None
    matches: tuple[tuple[str, str], ...] = ()


def load_mapping(path: str | Path) -> ClientMapping:
    """Read a mapping file; MappingError (one line) on any problem."""
    source = Path(path)
    try:
        with source.open("rb") as stream:
            raw = stream.read(MAX_MAPPING_BYTES + 1)
    except OSError as error:
        raise MappingError(f"{path}: cannot read: {error.strerror}") from None
    if len(raw) > MAX_MAPPING_BYTES:
        raise MappingError(f"{path}: larger than {MAX_MAPPING_BYTES} bytes")
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise MappingError(f"{path}: not a TOML file: {error}") from None
    unknown = sorted(set(document) - {"field", "match"})
    if unknown:
        raise MappingError(f"{path}: unknown key {unknown[0]!r} (expected field, match)")
    field = document.get("field")
    if field is not None and not isinstance(field, str):
        raise MappingError(f"{path}: field must be a string")
    entries = document.get("match", [])
    if not isinstance(entries, list) or len(entries) > MAX_MATCHES:
        raise MappingError(f"{path}: match must be a list of at most {MAX_MATCHES} tables")
    matches: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        if (
            not isinstance(entry, dict)
            or set(entry) != {"contains", "client"}
            or not all(isinstance(value, str) and value for value in entry.values())
        ):
            raise MappingError(f"{path}: match[{index}] needs exactly contains and client, both non-empty")
        matches.append((entry["contains"], entry["client"]))
    return ClientMapping(field, tuple(matches))
