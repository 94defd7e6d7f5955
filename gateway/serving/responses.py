"""The responses the gateway makes itself, byte for byte, and how they are sent.

The 467 body is the one client libraries recorded on 6 March 2023; 401 (code 32),
404 (code 34) and 429 (code 88) use Twitter's own error codes. Every response
carries `x-gw467-rule`, naming the rule that decided it.
"""

from __future__ import annotations

import json

from starlette.types import Send

from gateway.core.rules import Rule

RULE_HEADER = b"x-gw467-rule"
JSON_CONTENT_TYPE = (b"content-type", b"application/json; charset=utf-8")

NOT_ENTITLED_BODY = (
    b'{"errors":[{"message":"Your current API plan does not include access to this endpoint, '
    b'please see https://developer.twitter.com/en/docs/twitter-api for more information",'
    b'"code":467}]}'
)
UNAUTHENTICATED_BODY = b'{"errors":[{"message":"Could not authenticate you","code":32}]}'
NO_ROUTE_BODY = b'{"errors":[{"message":"Sorry, that page does not exist","code":34}]}'
QUOTA_BODY = b'{"errors":[{"message":"Rate limit exceeded","code":88}]}'

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
}


def bad_path_body(reason: str) -> bytes:
    message = f"Bad request: {PATH_REASONS.get(reason, reason)}"
    return json.dumps({"errors": [{"message": message}]}, separators=(",", ":")).encode()


def body_for(status: int, rule: Rule) -> bytes:
    """The body of a gateway-made response with this status and rule."""
    if status == 467:
        return NOT_ENTITLED_BODY
    if status == 401:
        return UNAUTHENTICATED_BODY
    if status == 404:
        return NO_ROUTE_BODY
    if status == 429:
        return QUOTA_BODY
    return bad_path_body(rule.reason or "")


# (status, rule) -> headers and body, built once: a gateway answers the same few refusals over and over.
_PREPARED: dict[tuple[int, str], tuple[list[tuple[bytes, bytes]], bytes]] = {}
_PREPARED_LIMIT = 4096


def _prepared(status: int, rule: Rule) -> tuple[list[tuple[bytes, bytes]], bytes]:
    found = _PREPARED.get((status, rule.text))
    if found is None:
        body = body_for(status, rule)
        headers = [
            JSON_CONTENT_TYPE,
            (b"content-length", str(len(body)).encode()),
            (RULE_HEADER, rule.encoded),
        ]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="gw467"'))
        found = (headers, body)
        if len(_PREPARED) < _PREPARED_LIMIT:
            _PREPARED[(status, rule.text)] = found
    return found


async def send_gateway_response(
    send: Send,
    status: int,
    rule: Rule,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers, body = _prepared(status, rule)
    # A fresh list each time: whatever wraps `send` may add headers to it in place.
    message_headers = [*headers, *extra_headers] if extra_headers else headers.copy()
    await send({"type": "http.response.start", "status": status, "headers": message_headers})
    await send({"type": "http.response.body", "body": body})
