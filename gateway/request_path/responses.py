"""The responses the gateway makes itself, byte for byte, and how they are sent.

The 467, 401, 404 and 429 bodies are those of the table that decided (Twitter's
unless the plan file's `[responses]` says otherwise, see `gateway.core.refusals`);
400 bodies say which path rule was broken. Every response carries `x-gw467-rule`,
naming the rule that decided it, and, when the plan file lists CORS origins, the CORS
headers a page of one of them needs to read it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import Send

from gateway.core.decision import TWITTER_BODIES
from gateway.core.rules import (
    STATUS_NO_ROUTE,
    STATUS_NOT_ENTITLED,
    STATUS_QUOTA,
    STATUS_UNAUTHENTICATED,
    Rule,
    RuleKind,
)

RULE_HEADER = b"x-gw467-rule"

JSON_CONTENT_TYPE = (b"content-type", b"application/json; charset=utf-8")
BEARER_CHALLENGE = (b"www-authenticate", b'Bearer realm="gw467"')  # on every 401

NOT_ENTITLED_BODY = TWITTER_BODIES[STATUS_NOT_ENTITLED]
UNAUTHENTICATED_BODY = TWITTER_BODIES[STATUS_UNAUTHENTICATED]
NO_ROUTE_BODY = TWITTER_BODIES[STATUS_NO_ROUTE]
QUOTA_BODY = TWITTER_BODIES[STATUS_QUOTA]

PATH_REASONS = {
    "too-long": "the path is longer than 2048 bytes",
    "not-absolute": "the path does not start with '/'",
    "control-character": "the path contains a control character",
    "non-ascii": "the path contains a non-ASCII byte",
    "backslash": "the path contains a backslash",
    "path-parameter": "the path contains ';' (path parameters are not accepted)",
    "fragment": "the path contains '#'",
    "forbidden-character": "the path contains a character that must not appear in a path",
    "bad-percent-encoding": "the path has a malformed percent-escape",
    "encoded-slash": "the path has an encoded slash or backslash",
    "double-encoding": "the path has an encoded '%' (double encoding)",
    "forbidden-encoded-character": "the path has a percent-escape of a character not allowed in a path",
    "dot-segment": "the path has a '.' or '..' segment",
    "bad-utf8": "the path has percent-escapes that are not UTF-8",
    "lookalike-separator": (
        "a path segment reads as a separator, an escape or a dot segment once Unicode is normalized"
    ),
    "lookalike-literal": "a path segment reads as another route's literal once Unicode is normalized",
    "duplicate-original-header": "X-Original-Method or X-Original-URI was sent more than once",
    "method-override": (
        "the request names another method (X-HTTP-Method-Override, X-HTTP-Method, "
        "X-Method-Override or _method in the query)"
    ),
    "url-override": "the request names another URL (X-Original-URL or X-Rewrite-URL)",
    "gateway-header": "the request carries an x-gw467-* header, which only the gateway may set",
}
DUPLICATE_ORIGINAL = "duplicate-original-header"  # /_gw467/check: which one would the app see?


def bad_path_body(reason: str) -> bytes:
    message = f"Bad request: {PATH_REASONS.get(reason, reason)}"
    return json.dumps({"errors": [{"message": message}]}, separators=(",", ":")).encode()


# The 503 of the "closed" store failure policy: the gateway cannot count quotas.
STORE_UNAVAILABLE_BODY = json.dumps(
    {"errors": [{"message": "Service unavailable: the gateway cannot count quotas right now, try again"}]},
    separators=(",", ":"),
).encode()


ANY_ORIGIN = b"*"
_ORIGIN = b"origin"
_VARY_ORIGIN = (b"vary", b"origin")
# What a page may read of a refusal beyond the CORS-safelisted headers: why, and the quota.
CORS_EXPOSED = (
    b"access-control-expose-headers",
    b"x-gw467-rule, x-rate-limit-limit, x-rate-limit-remaining, x-rate-limit-reset, retry-after",
)


def refusal_cors_headers(
    allowed: frozenset[bytes], request_headers: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """The CORS headers of a refusal to a request with these headers, so that a page of an allowed
    origin can read the 467 as it reads the app's answers (`allowed`: the table's `cors_origins`).

    Only an origin in `allowed` is ever sent back; `*` is answered with `*`, never the origin.
    Nothing without an Origin header; `Vary: Origin` whenever the answer depends on it.
    """
    if not allowed:
        return []
    origin = None
    for name, value in request_headers:
        if len(name) == 6 and name.lower() == _ORIGIN:
            origin = value
            break
    if ANY_ORIGIN in allowed:
        return [(b"access-control-allow-origin", ANY_ORIGIN), CORS_EXPOSED] if origin is not None else []
    if origin is not None and origin in allowed:
        return [(b"access-control-allow-origin", origin), _VARY_ORIGIN, CORS_EXPOSED]
    return [_VARY_ORIGIN]


def body_for(status: int, rule: Rule, bodies: Mapping[int, bytes] = TWITTER_BODIES) -> bytes:
    """The body of a gateway-made response with this status and rule."""
    if rule.kind is RuleKind.STORE:
        return STORE_UNAVAILABLE_BODY
    body = bodies.get(status)
    return body if body is not None else bad_path_body(rule.reason or "")


# (status, rule, body) -> headers and body, built once: a gateway answers the same few refusals over and over.
_PREPARED: dict[tuple[int, str, bytes | None], tuple[list[tuple[bytes, bytes]], bytes]] = {}
_PREPARED_LIMIT = 4096


def _prepared(
    status: int, rule: Rule, bodies: Mapping[int, bytes]
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    key = (status, rule.text, bodies.get(status))
    found = _PREPARED.get(key)
    if found is None:
        body = body_for(status, rule, bodies)
        headers = [
            JSON_CONTENT_TYPE,
            (b"content-length", str(len(body)).encode()),
            (RULE_HEADER, rule.encoded),
        ]
        if status == STATUS_UNAUTHENTICATED:
            headers.append(BEARER_CHALLENGE)
        found = (headers, body)
        if len(_PREPARED) < _PREPARED_LIMIT:
            _PREPARED[key] = found
    return found


async def send_gateway_response(
    send: Send,
    status: int,
    rule: Rule,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
    bodies: Mapping[int, bytes] = TWITTER_BODIES,
) -> None:
    """Send a refusal; `bodies` are the refusal bodies of the table that decided."""
    headers, body = _prepared(status, rule, bodies)
    # A fresh list each time: whatever wraps `send` may add headers to it in place.
    message_headers = [*headers, *extra_headers] if extra_headers else headers.copy()
    await send({"type": "http.response.start", "status": status, "headers": message_headers})
    await send({"type": "http.response.body", "body": body})
