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
# Kinds of header name, for the one pass a request's headers get.
OTHER: Final = 0
GATEWAY_NAMED: Final = 1
METHOD_NAMED: Final = 2
URL_NAMED: Final = 3
# PHP reads '.', ' ' and '[' in a query key as '_' (`.method=GET` is `$_GET['_method']`).
_QUERY_KEY = bytes.maketrans(b". [-", b"____")
_QUERY_SEPARATOR = re.compile(rb"[&;]")


_AUTHORIZATION = b"authorization"


def read_request(headers: list[tuple[bytes, bytes]], query: bytes) -> tuple[list[bytes], str | None, bool]:
    """One pass over a request's headers (and its query): the Authorization values, the override
    reason that refuses it (METHOD_OVERRIDE, URL_OVERRIDE, or None) and whether it has an
    `x-gw467-*` header to strip. One call per request: the middleware's hot path."""
    authorization = []
    override: str | None = None
    gateway_named = False
    for name, value in headers:
        size = len(name)
        if size == 13 and name.lower() == _AUTHORIZATION:
            authorization.append(value)
        elif size > 7 and name[0] | 32 == 120 and may_be_of_interest(name):  # 120: x
            kind = header_kind(name)
            if kind == GATEWAY_NAMED:
                gateway_named = True
            elif kind == METHOD_NAMED:
                override = METHOD_OVERRIDE
            elif kind == URL_NAMED and override is None:
                override = URL_OVERRIDE
    if query and override is None and query_overrides_method(query):
        override = METHOD_OVERRIDE
    return authorization, override, gateway_named


def normalized(name: bytes) -> bytes:
    """A header name as it is compared: lower case, `_` read as `-`."""
    return name.translate(_NORMAL)


def may_be_of_interest(name: bytes) -> bool:
    """False for a name that cannot be of any kind but OTHER, on its length and two bytes: every
    name of interest is x?g..., or x?h.. (13 or 22 bytes), x?m.. (17), x?o.. (14) or x?r.. (13).
    x-forwarded-for, x-request-id, x-real-ip: False, without a copy or a lookup."""
    size = len(name)
    if size < 8 or name[0] | 32 != 120:  # 120: 'x' (| 32 folds ASCII case)
        return False
    third = name[2] | 32
    if third == 103:  # g: x-gw467-*
        return True
    if third == 104:  # h: x-http-method, x-http-method-override
        return size == 13 or size == 22
    if third == 109:  # m: x-method-override
        return size == 17
    if third == 111:  # o: x-original-url
        return size == 14
    return third == 114 and size == 13  # r: x-rewrite-url


def header_kind(name: bytes) -> int:
    """Which kind of name this is: an `x-gw467-*` name, a method override, a URL override, or OTHER.

    Callers may skip the names `may_be_of_interest` says False to."""
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
    # (find, not `in`: compiled by mypyc, `in` on bytes is the generic, slower protocol)
    if query.find(b"method") < 0 and query.find(b"%") < 0:
        return False  # no key can read `_method`: the common case, two scans, no copy
    for part in _QUERY_SEPARATOR.split(query):
        key = part.partition(b"=")[0]
        if b"%" in key or b"+" in key:
            key = unquote_to_bytes(key.replace(b"+", b" "))
        key = key.lstrip(b" ").translate(_QUERY_KEY)
        if key.startswith(b"_method") and not key[7:].strip(b"_]"):
            return True
    return False
