"""The demo upstream: a Starlette app serving every catalogue endpoint with small payloads.

Routes are built from a plan set's catalogue, so the demo serves whatever
endpoints a plan file declares (a user's own included); they are listed in the
gateway's precedence order (literal, typed, `str`, `path`), so Starlette's first
match is the endpoint the gateway decided on. Behind the gateway, a request goes
straight to the route of the endpoint it was decided on (`scope["state"]["gw467_endpoint"]`,
set by the middleware, never by the caller) when that route matches it in full: the same
answer as the router's first match, without trying every route before it (the replay sends
hundreds of thousands of requests through this app). Payloads are plausible
and deterministic: link resolution redirects, media answers with a 1x1 PNG,
timelines and lookups with JSON shaped like Twitter's API v2. Each surface is
served by a backend pool named in the service map (`gateway.fronts.services`); a pool
without hosts answers 503 "Something is technically wrong." (Twitter code 131).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from gateway.core.plans import Endpoint, PlanSet
from gateway.core.templates import parse_template, precedence
from gateway.fronts.services import HEALTHY, ServiceMap

Handler = Callable[[Request], Awaitable[Response]]

# The smallest valid PNG: one transparent pixel.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


TECHNICALLY_WRONG_BODY = b'{"errors":[{"message":"Something is technically wrong.","code":131}]}'


class DemoUpstream:
    """The demo app: one route per catalogue endpoint, served through the service map in force."""

    def __init__(self, plan_set: PlanSet, services: ServiceMap = HEALTHY) -> None:
        self.services = services
        ranked = sorted(plan_set.endpoints, key=lambda endpoint: precedence(parse_template(endpoint.path)))
        routes = [
            Route(endpoint.path, self._through_pool(endpoint), methods=[endpoint.method], name=endpoint.id)
            for endpoint in ranked
        ]
        self._app = Starlette(routes=routes)
        self._route_of: dict[Endpoint, Route] = dict(zip(ranked, routes, strict=True))

    def replace_services(self, services: ServiceMap) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state")
        endpoint = state.get("gw467_endpoint") if state is not None and scope["type"] == "http" else None
        route = self._route_of.get(endpoint) if endpoint is not None else None
        if route is not None:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self._app(scope, receive, send)

    def _through_pool(self, endpoint: Endpoint) -> Handler:
        serve = _handler_for(endpoint)

        async def handle(request: Request) -> Response:
            hosts = self.services.hosts_for(endpoint.surface)
            if not hosts:
                return Response(TECHNICALLY_WRONG_BODY, 503, media_type="application/json")
            return await serve(request)

        return handle


def build_demo_app(plan_set: PlanSet, services: ServiceMap = HEALTHY) -> DemoUpstream:
    """The demo upstream for a plan set's catalogue."""
    return DemoUpstream(plan_set, services)


def _number(text: str) -> str:
    """A stable, tweet-id-like number derived from any text."""
    return str(int.from_bytes(hashlib.blake2s(text.encode(), digest_size=7).digest(), "big"))


def _tweet(tweet_id: str) -> dict[str, str]:
    return {
        "id": tweet_id,
        "text": f"demo tweet {tweet_id}",
        "author_id": _number("author" + tweet_id),
    }


def _handler_for(endpoint: Endpoint) -> Handler:
    surface, method = endpoint.surface, endpoint.method

    async def handle(request: Request) -> Response:
        params = request.path_params
        first = str(next(iter(params.values()), endpoint.id))
        if surface == "links":
            if method == "POST":
                return Response(status_code=204)
            if endpoint.path.endswith("/preview"):
                return JSONResponse({"data": {"url": f"https://example.org/a/{first}", "title": "Demo page"}})
            return RedirectResponse(f"https://example.org/a/{first}", status_code=301)
        if surface == "media":
            if method == "GET" and params:
                return Response(PIXEL_PNG, media_type="image/png")
            if method == "POST" and endpoint.path.endswith("upload.json"):
                media_id = _number(request.url.path + str(request.headers.get("content-length")))
                return JSONResponse({"media_id_string": media_id, "expires_after_secs": 86400})
            if method == "GET":
                return JSONResponse({"processing_info": {"state": "succeeded"}})
            return Response(status_code=200)
        if surface == "login":
            if endpoint.path.startswith("/oauth/"):
                token = _number(endpoint.id)
                return PlainTextResponse(
                    f"oauth_token={token}&oauth_token_secret=demo&oauth_callback_confirmed=true"
                )
            if method == "GET":
                return JSONResponse({"id_str": _number("me"), "screen_name": "demo_user"})
            return JSONResponse({"status": "success", "flow_token": _number(endpoint.id)})
        if method == "POST" and surface == "tweets" and not params:
            return JSONResponse({"data": _tweet(_number("new"))}, status_code=201)
        if method == "DELETE":
            return JSONResponse({"data": {"deleted": True}})
        if method in ("POST", "PUT"):
            return JSONResponse({"data": {"ok": True, "endpoint": endpoint.id}})
        if surface in ("timeline", "search", "tweetdeck") or (surface == "tweets" and not params):
            tweets = [_tweet(_number(f"{first}/{n}")) for n in range(3)]
            return JSONResponse({"data": tweets, "meta": {"result_count": len(tweets)}})
        if surface == "tweets":
            return JSONResponse({"data": _tweet(first)})
        if surface == "users":
            return JSONResponse({"data": {"id": _number(first), "username": first, "name": "Demo User"}})
        return JSONResponse({"data": {"endpoint": endpoint.id, **params}})

    return handle
