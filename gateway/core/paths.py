"""Canonical request paths: one spelling per request, or a refusal with a reason.

Rules (each refusal is a 400 from the gateway, reason in `PathRejected.reason`):
- the raw path is ASCII, at most 2048 bytes, starts with '/', and holds only
  letters, digits, `-._~!$&'()*+,=:@`, '/' and percent-escapes (no ';', '\\',
  '#', controls, spaces);
- empty segments collapse (`//`, trailing '/'): a normalization, not a refusal;
- a percent-escape is decoded only when it stands for one of those allowed
  characters; an escaped '/', '\\', '%', control or other character is refused;
- a segment that is, or decodes to, '.' or '..' is refused.
So a canonical path never contains '%', and the path the upstream routes on
can be rebuilt exactly from the canonical segments.
"""

from __future__ import annotations

import re

MAX_PATH_BYTES = 2048

_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9\-._~!$&'()*+,=:@]+)+")
_RAW_ALLOWED = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,=:@%/]*")
_SEGMENT_ALLOWED = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,=:@]+")
_ESCAPE = re.compile(r"%(.?.?)")
_HEX = re.compile(r"[0-9A-Fa-f]{2}")


class PathRejected(Exception):
    """The path cannot be given one meaning; `reason` is a short kebab-case word."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def canonical_segments(raw_path: str) -> tuple[str, ...]:
    """The path's canonical segments (decoded, no empties), or raise PathRejected.

    `raw_path` is the path exactly as received (ASGI `raw_path` decoded as
    latin-1), without the query string.
    """
    if len(raw_path) <= MAX_PATH_BYTES and _PLAIN_PATH.fullmatch(raw_path) and "/." not in raw_path:
        return tuple(raw_path[1:].split("/"))
    return _canonical_slow(raw_path)


def _canonical_slow(raw_path: str) -> tuple[str, ...]:
    if len(raw_path) > MAX_PATH_BYTES:
        raise PathRejected("too-long")
    if not raw_path.startswith("/"):
        raise PathRejected("not-absolute")
    if not _RAW_ALLOWED.fullmatch(raw_path):
        raise PathRejected(_classify_bad_raw(raw_path))
    segments: list[str] = []
    for part in raw_path.split("/"):
        if not part:
            continue
        segment = _decode(part) if "%" in part else part
        if segment in (".", ".."):
            raise PathRejected("dot-segment")
        segments.append(segment)
    return tuple(segments)


def _classify_bad_raw(raw_path: str) -> str:
    for char in raw_path:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return "control-character"
        if ord(char) > 0x7E:
            return "non-ascii"
        if char == "\\":
            return "backslash"
        if char == ";":
            return "path-parameter"
        if char == "#":
            return "fragment"
    return "forbidden-character"


def _decode(part: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = match.group(1)
        if not _HEX.fullmatch(digits):
            raise PathRejected("bad-percent-encoding")
        char = chr(int(digits, 16))
        if char in "/\\":
            raise PathRejected("encoded-slash")
        if char == "%":
            raise PathRejected("double-encoding")
        if ord(char) < 0x20 or ord(char) == 0x7F:
            raise PathRejected("control-character")
        if not _SEGMENT_ALLOWED.fullmatch(char):
            raise PathRejected("forbidden-encoded-character")
        return char

    return _ESCAPE.sub(replace, part)


def join_segments(segments: tuple[str, ...] | list[str]) -> str:
    return "/" + "/".join(segments)
