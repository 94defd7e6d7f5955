"""Canonical request paths: one spelling per request, or a refusal with a reason.

Rules (each refusal is a 400 from the gateway, reason in `PathRejected.reason`):
- the raw path is ASCII, at most 2048 bytes, starts with '/', and holds only
  letters, digits, `-._~!$&'()*+,=:@`, '/' and percent-escapes (no ';', '\\',
  '#', controls, raw spaces or raw non-ASCII bytes);
- empty segments collapse (`//`, trailing '/'): a normalization, not a refusal;
- a percent-escape is decoded when it stands for one of those allowed characters
  or a space, or when a run of escapes is UTF-8 for non-ASCII characters (as
  Starlette decodes them); an escaped '/', '\\', '%', control or other character,
  and escapes that are not UTF-8, are refused;
- a segment that is, or decodes to, '.' or '..' is refused;
- a segment with non-ASCII characters whose NFKC form (as an upstream that normalizes
  Unicode reads it) holds '/', '\\', '%', ';', '#' or '?', or is '.' or '..', is refused
  (`lookalike-separator`: U+FF0F FULLWIDTH SOLIDUS is '/' to such an upstream);
- an absolute-form target (`http://host[:port]/path`, RFC 9112 section 3.2.2, which
  a server must accept and which uvicorn's h11 server passes whole in `raw_path`)
  is decided on its path when the scheme is http(s) and the authority is a plain
  host and optional port; any other target that does not start with '/' is refused.
So a canonical segment never contains '%' or '/', and the path the upstream routes
on is rebuilt exactly from the canonical segments (`raw_path_for` re-encodes it).
"""

from __future__ import annotations

import re
import unicodedata

MAX_PATH_BYTES = 2048

_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9\-._~!$&'()*+,=:@]+)+")
_RAW_ALLOWED = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,=:@%/]*")
_DECODED_ALLOWED = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,=:@ ]")
_HEX = re.compile(r"[0-9A-Fa-f]{2}")
_NEEDS_ESCAPE = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,=:@/]")
# Unicode categories refused inside a decoded value: controls and line/paragraph separators.
_REFUSED_CATEGORIES = ("Cc", "Zl", "Zp")
# What a non-ASCII segment must not become under NFKC: a separator or an escape of the path.
_SEPARATOR_LOOKALIKES = frozenset("/\\%;#?")


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
    # equivalent mutants: a fast path; a path at the limit takes the slow path, which agrees
    short = len(raw_path) <= MAX_PATH_BYTES  # pragma: no mutate
    if short and _PLAIN_PATH.fullmatch(raw_path) and "/." not in raw_path:
        return tuple(raw_path[1:].split("/"))
    return _canonical_slow(raw_path)


def _canonical_slow(raw_path: str) -> tuple[str, ...]:
    if len(raw_path) > MAX_PATH_BYTES:
        raise PathRejected("too-long")
    if not raw_path.startswith("/"):
        raw_path = origin_path(raw_path)
    if not _RAW_ALLOWED.fullmatch(raw_path):
        raise PathRejected(_classify_bad_raw(raw_path))
    segments: list[str] = []
    for part in raw_path.split("/"):
        if not part:
            continue
        # equivalent mutants: a fast path: a segment without % decodes to itself
        segment = _decode(part) if "%" in part else part  # pragma: no mutate
        if segment in (".", ".."):
            raise PathRejected("dot-segment")
        if not segment.isascii():
            compatible = unicodedata.normalize("NFKC", segment)
            if compatible in (".", "..") or not _SEPARATOR_LOOKALIKES.isdisjoint(compatible):
                raise PathRejected("lookalike-separator")
        segments.append(segment)
    return tuple(segments)


# scheme "://" host [":" port] then the path: a registered name or IPv4 address, or an IPv6
# literal in brackets; no userinfo ('@'), which would let a target name another authority.
_ABSOLUTE_FORM = re.compile(
    r"(?i:https?)://(?:[A-Za-z0-9\-.]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?P<path>/.*)?"
)


def unicode_folds(segment: str) -> frozenset[str]:
    """How an upstream that normalizes Unicode (NFKC) and folds case might read `segment`:
    U+017F LATIN SMALL LETTER LONG S and the fullwidth letters read as their ASCII letters, and
    U+0131 DOTLESS I as 'i' once upper-cased."""
    compatible = unicodedata.normalize("NFKC", segment)
    return frozenset((compatible.casefold(), compatible.upper().lower(), compatible.lower()))


def origin_path(target: str) -> str:
    """The path of an absolute-form request target (`/` when it has none), or PathRejected."""
    match = _ABSOLUTE_FORM.fullmatch(target)
    if match is None:
        raise PathRejected("not-absolute")
    return match.group("path") or "/"


def _classify_bad_raw(raw_path: str) -> str:
    for char in raw_path:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return "control-character"
        # equivalent mutants: 0x7F was answered just above
        if ord(char) > 0x7E:  # pragma: no mutate
            return "non-ascii"
        if char == "\\":
            return "backslash"
        if char == ";":
            return "path-parameter"
        if char == "#":
            return "fragment"
    return "forbidden-character"


def _decode(part: str) -> str:
    """Decode one segment's escapes, left to right; bytes of 0x80 and up gather into UTF-8 runs."""
    decoded: list[str] = []
    pending = bytearray()
    position = 0
    while position < len(part):
        char = part[position]
        if char != "%":
            _flush(pending, decoded)
            decoded.append(char)
            position += 1
            continue
        digits = part[position + 1 : position + 3]
        if not _HEX.fullmatch(digits):
            raise PathRejected("bad-percent-encoding")
        position += 3
        byte = int(digits, 16)
        if byte >= 0x80:
            pending.append(byte)
            continue
        _flush(pending, decoded)
        decoded.append(_decoded_ascii(chr(byte)))
    _flush(pending, decoded)
    return "".join(decoded)


def _decoded_ascii(char: str) -> str:
    if char in "/\\":
        raise PathRejected("encoded-slash")
    if char == "%":
        raise PathRejected("double-encoding")
    if ord(char) < 0x20 or ord(char) == 0x7F:
        raise PathRejected("control-character")
    if not _DECODED_ALLOWED.fullmatch(char):
        raise PathRejected("forbidden-encoded-character")
    return char


def _flush(pending: bytearray, decoded: list[str]) -> None:
    if not pending:
        return
    try:
        # equivalent mutants: codec names are case-insensitive
        text = pending.decode("utf-8")  # pragma: no mutate
    except UnicodeDecodeError:
        raise PathRejected("bad-utf8") from None
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in text):
        raise PathRejected("control-character")
    decoded.append(text)
    pending.clear()


def join_segments(segments: tuple[str, ...] | list[str]) -> str:
    return "/" + "/".join(segments)


def raw_path_for(path: str) -> bytes:
    """The one raw spelling of a canonical path: spaces and non-ASCII percent-encoded as UTF-8."""
    if path.isascii() and " " not in path:
        # equivalent mutants: codec names are case-insensitive
        return path.encode("ascii")  # pragma: no mutate
    escaped = _NEEDS_ESCAPE.sub(_escaped_utf8, path)
    return escaped.encode("ascii")  # pragma: no mutate


def _escaped_utf8(match: re.Match[str]) -> str:
    # equivalent mutants: codec names are case-insensitive
    return "".join(f"%{byte:02X}" for byte in match.group(0).encode("utf-8"))  # pragma: no mutate
