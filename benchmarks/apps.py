"""The upstream every ASGI variant shares (one Starlette route) and a no-op pure-ASGI middleware."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

ROUTE_TEMPLATE = "/2/tweets/{id}"
UPSTREAM_BODY = b"ok"


async def _tweet(request: Request) -> Response:
    return PlainTextResponse(UPSTREAM_BODY)


def bare_app() -> Starlette:
    """A Starlette app whose one route matches the path the gateway variants forward (tweets.lookup)."""
    return Starlette(routes=[Route(ROUTE_TEMPLATE, _tweet, methods=["GET"])])


class NoopMiddleware:
    """Pure-ASGI middleware that only passes the call on: the floor for any middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
