"""Calling an ASGI app directly: a prebuilt scope, trivial receive/send, a timed batch, a checked call.

No HTTP client or transport is involved, so the figures are the app's own cost per request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message

_REQUEST_MESSAGE: Message = {"type": "http.request", "body": b"", "more_body": False}


def http_scope(method: str, path: str, key: str) -> tuple[dict[str, Any], list[tuple[bytes, bytes]]]:
    """An HTTP scope for `method path` with a bearer key, and its header list (copy both per call)."""
    headers = [
        (b"host", b"bench.local"),
        (b"user-agent", b"gw467-bench"),
        (b"accept", b"*/*"),
        (b"authorization", b"Bearer " + key.encode()),
    ]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("ascii"),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("bench.local", 80),
    }
    return scope, headers


async def receive() -> Message:
    return _REQUEST_MESSAGE


async def discard(message: Message) -> None:
    return None


@dataclass
class RecordedResponse:
    """What one call sent: the status of `http.response.start` and the body bytes."""

    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


async def call_once(
    app: ASGIApp, scope: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> RecordedResponse:
    """One request with a recording send, to check what the app answers."""
    response = RecordedResponse()

    async def record(message: Message) -> None:
        if message["type"] == "http.response.start":
            response.status = message["status"]
            response.headers = list(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            response.body += message.get("body", b"")

    request_scope = dict(scope)
    request_scope["headers"] = list(headers)
    await app(request_scope, receive, record)
    return response


async def time_batch(
    app: ASGIApp, scope: dict[str, Any], headers: list[tuple[bytes, bytes]], requests: int
) -> int:
    """Nanoseconds for `requests` calls, each on a fresh copy of the scope and header list."""
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(requests):
        request_scope = dict(scope)
        request_scope["headers"] = list(headers)
        await app(request_scope, receive, discard)
    return clock() - start
