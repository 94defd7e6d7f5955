"""`ReverseProxy`: an ASGI app that passes each request to an HTTP upstream and streams the answer back.

What `gw467 serve --upstream URL` puts behind the gateway, so any HTTP service can sit behind
it. Request and response bodies are streamed, never buffered; hop-by-hop headers (and those
the Connection header names) are dropped both ways; the upstream gets its own Host, with the
client's in X-Forwarded-Host, and X-Forwarded-For / X-Forwarded-Proto appended. Headers named
`x-gw467-*` from the client are dropped and replaced by the gateway's decision (client, class,
plan), so the upstream can trust them. The upstream's Server and Date give way to the
server's own. An unreachable upstream is 502, a slow one 504.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit

import httpx
from starlette.types import Message, Receive, Scope, Send

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# The server in front (uvicorn, hypercorn) adds its own Server and Date to every response; the
# upstream's would make two of each. nginx drops the upstream's two by default as well.
SERVER_OWN = frozenset({b"server", b"date"})
_GATEWAY_PREFIX = b"x-gw467-"
TIMEOUT = httpx.Timeout(60.0, connect=5.0)


class UpstreamError(ValueError):
    """An upstream URL that cannot be used."""


def parse_upstream(url: str) -> tuple[str, str]:
    """(origin, base path) of an http(s) upstream URL; UpstreamError names what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UpstreamError(f"{url!r} is not an http:// or https:// URL with a host")
    if parts.query or parts.fragment:
        raise UpstreamError(f"{url!r} has a query or fragment; give the origin and an optional base path")
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


class ReverseProxy:
    """Forward every HTTP request to `upstream` (`http://host:port`, optionally with a base path)."""

    def __init__(self, upstream: str, timeout: httpx.Timeout = TIMEOUT) -> None:
        self.origin, self.base_path = parse_upstream(upstream)
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # No connection limit of its own: the server in front decides how much comes in.
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
            self._client = httpx.AsyncClient(timeout=self._timeout, limits=limits, trust_env=False)
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # the middleware refuses WebSocket handshakes before they get here
        raw = scope.get("raw_path") or quote(scope["path"]).encode()
        query = scope.get("query_string", b"")
        target = (
            self.origin
            + self.base_path
            + raw.decode("latin-1")
            + ("?" + query.decode("latin-1") if query else "")
        )
        headers, has_body = self._request_headers(scope)
        client = self._http()
        request = client.build_request(
            scope["method"], target, headers=headers, content=_body(receive) if has_body else None
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException:
            await _refuse(send, 504, "upstream timed out")
            return
        except httpx.HTTPError as error:
            await _refuse(send, 502, f"upstream unreachable: {type(error).__name__}")
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (name, value)
                        for name, value in _end_to_end(response.headers.raw)
                        if name.lower() not in SERVER_OWN
                    ],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    def _request_headers(self, scope: Scope) -> tuple[list[tuple[bytes, bytes]], bool]:
        """The upstream request's headers, and whether the client's request has a body."""
        incoming: list[tuple[bytes, bytes]] = scope["headers"]
        has_body = False
        host = b""
        forwarded_for = b""
        kept = []
        for name, value in _end_to_end(incoming):
            lowered = name.lower()
            if lowered == b"host":
                host = value
            elif lowered == b"x-forwarded-for":
                forwarded_for = value
            elif not lowered.startswith(_GATEWAY_PREFIX):
                kept.append((name, value))
                if lowered == b"content-length" and value.strip() != b"0":
                    has_body = True
        has_body = has_body or any(name.lower() == b"transfer-encoding" for name, _ in incoming)
        peer = scope.get("client")
        if peer:
            address = peer[0].encode()
            forwarded_for = forwarded_for + b", " + address if forwarded_for else address
        if forwarded_for:
            kept.append((b"x-forwarded-for", forwarded_for))
        kept.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
        if host:
            kept.append((b"x-forwarded-host", host))
        kept += _decision_headers(scope)
        return kept, has_body

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._http()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                    self._client = None
                await send({"type": "lifespan.shutdown.complete"})
                return


def _end_to_end(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` without the hop-by-hop ones, nor those the Connection header names."""
    named = set(HOP_BY_HOP)
    for name, value in headers:
        if name.lower() == b"connection":
            named.update(token.strip().lower() for token in value.split(b","))
    return [(name, value) for name, value in headers if name.lower() not in named]


def _decision_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """Who the gateway decided the request came from (set by `EntitlementMiddleware` in the state)."""
    state = scope.get("state") or {}
    headers = []
    identity = state.get("gw467_client")
    if identity is not None:
        headers += [
            (b"x-gw467-client", identity.id.encode()),
            (b"x-gw467-class", identity.client_class.encode()),
        ]
    plan = state.get("gw467_plan")
    if plan is not None:
        headers.append((b"x-gw467-plan", plan.encode()))
    return headers


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            return  # the client went away
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"errors": [{"message": message}]}, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
