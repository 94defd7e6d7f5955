"""What a request names beside its path that the gateway refuses or strips before the app sees it.

A method or URL override (`X-HTTP-Method-Override: GET`, `_method=GET` in the query,
`X-Original-URL: /2/admin`) makes frameworks serve another request than the one decided
(Symfony and Laravel honour the method header on POST, Rails' `Rack::MethodOverride` reads
`_method`), so a request carrying one is refused: 400, rule `path:method-override` or
`path:url-override`. Headers named `x-gw467-*` are the gateway's own word about who called; a
client's are dropped. Names compare case-insensitively with `_` read as `-`: a WSGI server
turns both `X-Gw467-Client` and `X_Gw467_Client` into `HTTP_X_GW467_CLIENT`.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote_to_bytes

METHOD_OVERRIDE: Final = "method-override"
URL_OVERRIDE: Final = "url-override"
GATEWAY_HEADER: Final = "gateway-header"  # /_gw467/check only: the proxy in front cannot strip them
GATEWAY_PREFIX: Final = b"x-gw467-"

# Every header name is normalized this way before it is compared (see the module docstring).
_NORMAL = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ_", b"abcdefghijklmnopqrstuvwxyz-")
_METHOD_HEADERS = frozenset((b"x-http-method-override", b"x-http-method", b"x-method-override"))
_URL_HEADERS = frozenset((b"x-original-url", b"x-rewrite-url"))
# Every name of interest is x?g..., x?h..., x?m..., x?o... or x?r...: a request's other headers
# (x-forwarded-for, x-api-key...) are passed over on two byte tests, without a call.
FIRST_BYTES: Final = b"xX"
THIRD_BYTES: Final = b"gGhHmMoOrR"
# Kinds of header name, for the one pass a request's headers get.
OTHER: Final = 0
GATEWAY_NAMED: Final = 1
METHOD_NAMED: Final = 2
URL_NAMED: Final = 3
# PHP reads '.', ' ' and '[' in a query key as '_' (`.method=GET` is `$_GET['_method']`).
_QUERY_KEY = bytes.maketrans(b". [-", b"____")
_QUERY_SEPARATOR = re.compile(rb"[&;]")


def normalized(name: bytes) -> bytes:
    """A header name as it is compared: lower case, `_` read as `-`."""
    return name.translate(_NORMAL)


def header_kind(name: bytes) -> int:
    """Which kind of name this is: an `x-gw467-*` name, a method override, a URL override, or OTHER.

    Callers may skip names whose first byte is not in FIRST_BYTES or third not in THIRD_BYTES."""
    lowered = name.translate(_NORMAL)
    if lowered.startswith(GATEWAY_PREFIX):
        return GATEWAY_NAMED
    if lowered in _METHOD_HEADERS:
        return METHOD_NAMED
    if lowered in _URL_HEADERS:
        return URL_NAMED
    return OTHER


def query_overrides_method(query: bytes) -> bool:
    """Whether the query string has a key a framework reads as `_method` (percent-escaped,
    `.method` or ` method` in PHP, `_method[]`). Keys are case-sensitive in every framework
    that reads one (Symfony, Laravel, Rack, Express' method-override): `_METHOD` is no override."""
    if b"method" not in query and b"%" not in query:
        return False  # no key can read `_method`: the common case, two scans, no copy
    for part in _QUERY_SEPARATOR.split(query):
        key = part.partition(b"=")[0]
        if b"%" in key or b"+" in key:
            key = unquote_to_bytes(key.replace(b"+", b" "))
        key = key.lstrip(b" ").translate(_QUERY_KEY)
        if key.startswith(b"_method") and not key[7:].strip(b"_]"):
            return True
    return False
