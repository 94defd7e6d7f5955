"""Calling an ASGI app in process with a request exactly as given, no sockets, no HTTP client.

HTTP clients normalize paths before sending (httpx removes dot segments, for
one), so tests of path tricks and the replay's virtual traffic build the ASGI
scope themselves here, with the raw path untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive


@dataclass(frozen=True)
class InProcessResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None


def http_scope(
    method: str,
    raw_path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    query_string: bytes = b"",
) -> dict[str, object]:
    """An ASGI HTTP scope as uvicorn builds it: `path` percent-decoded, `raw_path` as received.

    A `?query` on `raw_path` becomes the query string, as a server would split it.
    """
    if "?" in raw_path:
        raw_path, _, query = raw_path.partition("?")
        query_string = query.encode("latin-1")
    raw = raw_path.encode("latin-1")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path, encoding="latin-1"),
        "raw_path": raw,
        "root_path": "",
        "query_string": query_string,
        "headers": list(headers or []),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8467),
        "state": {},
    }


def receive_once(body: bytes) -> Receive:
    """An ASGI `receive` that yields the whole body once, then a disconnect, as a server would."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def call_asgi(
    app: ASGIApp,
    method: str,
    raw_path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> InProcessResponse:
    """Send one request through `app` and collect the whole response."""
    scope = http_scope(method, raw_path, headers)
    receive = receive_once(body)
    status = 0
    response_headers: tuple[tuple[bytes, bytes], ...] = ()
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status, response_headers
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers = tuple((bytes(k), bytes(v)) for k, v in message.get("headers", ()))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return InProcessResponse(status, response_headers, b"".join(chunks))


async def status_of(app: ASGIApp, scope: dict[str, object], body: bytes = b"") -> int:
    """Send one request through `app` and return only the response status (the replay's hot path)."""
    status = 0

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive_once(body), send)
    return status
