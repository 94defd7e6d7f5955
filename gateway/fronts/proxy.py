"""`ReverseProxy`: an ASGI app that passes each request to an HTTP upstream and streams the answer back.

What `gw467 serve --upstream URL` puts behind the gateway, so any HTTP service can sit behind
it. Request and response bodies are streamed, never buffered; hop-by-hop headers (and those
the Connection header names) are dropped both ways; the upstream gets its own Host. Header
names compare with `_` read as `-`. Headers named `x-gw467-*` from the client are dropped and
replaced by the gateway's decision (client, class, plan), so the upstream can trust them; the
client's X-Forwarded-*, Forwarded and X-Real-IP are replaced by the gateway's own (the TCP
peer, the scheme, the client's Host), unless the peer is a trusted proxy (then its
X-Forwarded-* are kept and the peer appended to X-Forwarded-For). A body the client cuts short
aborts the upstream request (it never ends as if complete); Content-Length beside
Transfer-Encoding is 400. The upstream's Server and Date give way to the server's own. An
unreachable upstream is 502, a slow one 504, each with one log line.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator, Sequence
from urllib.parse import quote

import httpx
from starlette.types import Message, Receive, Scope, Send

from gateway.core.forwarding import GATEWAY_PREFIX, normalized
from gateway.fronts.settings import Network, parse_trusted_proxies, parse_upstream
from gateway.request_path.decision_log import OPERATIONS

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
# What the client may not say to the upstream: where it came from (the gateway says that,
# unless the peer is a trusted proxy) and which method or URL to serve instead (refused
# before here; dropped again, should the proxy ever sit behind something else).
_FORWARDING = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-forwarded-server",
        b"x-forwarded-scheme",
        b"x-forwarded-ssl",
        b"x-real-ip",
    }
)
_REPLACED = _FORWARDING | {
    b"x-http-method-override",
    b"x-http-method",
    b"x-method-override",
    b"x-original-url",
    b"x-rewrite-url",
}
TIMEOUT = httpx.Timeout(60.0, connect=5.0)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False  # a Unix socket's peer, or none
    return any(peer in network for network in networks)


class ReverseProxy:
    """Forward every HTTP request to `upstream` (`http://host:port`, optionally with a base path)."""

    def __init__(
        self, upstream: str, timeout: httpx.Timeout = TIMEOUT, trusted_proxies: Sequence[str] = ()
    ) -> None:
        self.origin, self.base_path = parse_upstream(upstream)
        self.trusted_proxies = parse_trusted_proxies(trusted_proxies)
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
        if has_body is None:
            # Both framings (h11 passes them, httptools refuses): which one did whatever is in
            # front read? Refused as httptools does, so both servers answer alike.
            OPERATIONS.warning(
                f"gw467: {scope['method']} {target}: refused (400): Content-Length beside Transfer-Encoding"
            )
            await _refuse(send, 400, "Bad request: Content-Length beside Transfer-Encoding", close=True)
            return
        client = self._http()
        request = client.build_request(
            scope["method"], target, headers=headers, content=_body(receive) if has_body else None
        )
        try:
            response = await client.send(request, stream=True)
        except BodyCutShort:
            # The upstream's connection is closed mid-body, never ended as if complete; the
            # client is gone (or the server already answered its malformed body with 400).
            OPERATIONS.warning(
                f"gw467: {scope['method']} {target}: the client's body was cut short; "
                "the upstream request was aborted"
            )
            return
        except httpx.TimeoutException:
            OPERATIONS.warning(f"gw467: {scope['method']} {target}: upstream timed out (504)")
            await _refuse(send, 504, "upstream timed out")
            return
        except httpx.HTTPError as error:
            OPERATIONS.warning(
                f"gw467: {scope['method']} {target}: upstream failed (502): {type(error).__name__}: {error}"
            )
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
            try:
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except httpx.HTTPError as error:
                # The answer has begun: too late for a 502. Never ended as if complete: the
                # server closes the connection on a response left unfinished.
                OPERATIONS.warning(
                    f"gw467: {scope['method']} {target}: upstream broke off its answer: "
                    f"{type(error).__name__}: {error}"
                )
                return
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    def _request_headers(self, scope: Scope) -> tuple[list[tuple[bytes, bytes]], bool | None]:
        """The upstream request's headers, and whether the client's request has a body (None:
        it has both a Content-Length and a Transfer-Encoding).

        Names are compared with `_` read as `-` (a WSGI upstream reads `X_Gw467_Client` as
        `X-Gw467-Client`): the client's `x-gw467-*`, forwarding headers and overrides never
        pass, and the gateway's own are set after."""
        incoming: list[tuple[bytes, bytes]] = scope["headers"]
        peer = scope.get("client")
        trusted = bool(peer and self.trusted_proxies and _trusted(peer[0], self.trusted_proxies))
        host = b""
        forwarded_for: list[bytes] = []
        length: bytes | None = None
        kept = []
        for name, value in _end_to_end(incoming):
            lowered = normalized(name)
            if lowered == b"host":
                host = value
            elif lowered == b"content-length":
                length = value
            elif lowered in _REPLACED:
                # A trusted proxy's word on where the request came from is kept (the overrides
                # never are); anyone else's is replaced by the gateway's.
                if trusted and lowered in _FORWARDING:
                    if lowered == b"x-forwarded-for":
                        forwarded_for.append(value)
                    else:
                        kept.append((name, value))
            elif not lowered.startswith(GATEWAY_PREFIX):
                kept.append((name, value))
        chunked = any(normalized(name) == b"transfer-encoding" for name, _ in incoming)
        # Both framings at once is the request-smuggling shape (RFC 9112 6.3): refused (None).
        if length is not None and chunked:
            return kept, None
        if length is not None:
            kept.append((b"content-length", length))
        has_body = chunked or (length is not None and length.strip() != b"0")
        # The gateway is the first hop: the client's own X-Forwarded-For, Forwarded and X-Real-IP
        # would let it claim any address, so the upstream hears the TCP peer's only.
        if peer:
            address = peer[0].encode()
            kept.append((b"x-forwarded-for", b", ".join([*forwarded_for, address])))
            if not trusted:
                kept.append((b"x-real-ip", address))
        if not trusted:
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
        if normalized(name) == b"connection":
            named.update(normalized(token.strip()) for token in value.split(b","))
    return [(name, value) for name, value in headers if normalized(name) not in named]


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


class BodyCutShort(Exception):
    """The client's request body ended before it was complete (the client went away, or the
    server refused a malformed chunk)."""


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            # Raised, not returned: httpx would end the upstream request (the last chunk, or
            # a Content-Length met) and the upstream would commit a truncated body.
            raise BodyCutShort
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _refuse(send: Send, status: int, message: str, close: bool = False) -> None:
    body = json.dumps({"errors": [{"message": message}]}, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:  # the body was not read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
