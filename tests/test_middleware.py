"""EntitlementMiddleware end to end, in process, with raw paths exactly as a client could send them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gateway.compiler import compile_plan_set
from gateway.config import ConfigError
from gateway.inprocess import InProcessResponse, call_asgi
from gateway.middleware import EntitlementMiddleware
from gateway.planfile import load_plan_set
from gateway.responses import NOT_ENTITLED_BODY
from gateway.upstream import build_demo_app
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED

INCIDENT_BODY = (
    b'{"errors":[{"message":"Your current API plan does not include access to this endpoint, please see '
    b'https://developer.twitter.com/en/docs/twitter-api for more information","code":467}]}'
)


class RecordingApp:
    """An upstream that records the scope it was called with and answers 200."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-upstream", b"yes")]})
        await send({"type": "http.response.body", "body": b"upstream"})


def gateway_for(plans: Any, upstream: Any = None, clock: Any = None) -> EntitlementMiddleware:
    plan_set = load_plan_set(plans)
    app = upstream if upstream is not None else build_demo_app(plan_set)
    if clock is None:
        return EntitlementMiddleware(app, compile_plan_set(plan_set))
    return EntitlementMiddleware(app, compile_plan_set(plan_set), clock=clock)


def send(
    app: Any,
    method: str,
    path: str,
    client: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> InProcessResponse:
    all_headers = list(headers or [])
    if client is not None:
        all_headers.append((b"authorization", f"Bearer {DEMO_KEYS[client]}".encode()))
    return asyncio.run(call_asgi(app, method, path, all_headers))


def test_billing_plan_cuts_tco_link_resolution_off_with_the_incident_body() -> None:
    response = send(gateway_for(BILLING), "GET", "/2/links/abc123", "tco")
    assert response.status == 467
    assert response.body == INCIDENT_BODY == NOT_ENTITLED_BODY
    assert response.header("content-type") == "application/json; charset=utf-8"
    assert response.header("x-gw467-rule") == "plan:free/deny"


@pytest.mark.parametrize("plans", [BASELINE, FIXED])
def test_baseline_and_fixed_plans_forward_tco_link_resolution_to_the_upstream(plans: Any) -> None:
    response = send(gateway_for(plans), "GET", "/2/links/abc123", "tco")
    assert response.status == 301
    assert response.header("location") == "https://example.org/a/abc123"
    assert response.header("x-gw467-rule") == "exempt:first_party"


@pytest.mark.parametrize(
    ("client", "method", "path"),
    [
        ("media", "GET", "/2/media/3_1234"),
        ("web", "POST", "/1.1/media/upload.json"),
        ("tweetdeck", "GET", "/1.1/tweetdeck/columns/7/feed"),
        ("login", "POST", "/1.1/onboarding/task.json"),
        ("ios", "GET", "/2/users/42/timelines/reverse_chronological"),
    ],
)
def test_billing_plan_denies_every_surface_the_incident_hit(client: str, method: str, path: str) -> None:
    assert send(gateway_for(BILLING), method, path, client).status == 467
    assert send(gateway_for(FIXED), method, path, client).status < 400


def test_third_party_free_plan_denial_is_intended_and_kept_by_the_fixed_plan() -> None:
    response = send(gateway_for(FIXED), "GET", "/2/tweets/12", "sunrise-bot")
    assert response.status == 467
    assert response.header("x-gw467-rule") == "plan:free/deny"


def test_unknown_key_gets_401_with_twitter_code_32() -> None:
    app = gateway_for(FIXED)
    response = asyncio.run(
        call_asgi(app, "GET", "/2/tweets/12", [(b"authorization", b"Bearer not-a-real-key-at-all")])
    )
    assert response.status == 401
    assert json.loads(response.body) == {"errors": [{"message": "Could not authenticate you", "code": 32}]}
    assert response.header("x-gw467-rule") == "auth:unknown-key"
    assert response.header("www-authenticate") == 'Bearer realm="gw467"'


@pytest.mark.parametrize(
    ("headers", "rule"),
    [
        ([], "auth:missing"),
        ([(b"authorization", b"Basic Z3c0Njc=")], "auth:malformed"),
        ([(b"authorization", b"Bearer ")], "auth:malformed"),
        (
            [(b"authorization", b"Bearer gw467-demo-web"), (b"authorization", b"Bearer gw467-demo-web")],
            "auth:ambiguous",
        ),
    ],
)
def test_missing_malformed_or_doubled_credentials_get_401(headers: Any, rule: str) -> None:
    response = asyncio.run(call_asgi(gateway_for(FIXED), "GET", "/2/tweets/12", headers))
    assert response.status == 401
    assert response.header("x-gw467-rule") == rule


def test_bearer_scheme_is_case_insensitive() -> None:
    headers = [(b"authorization", b"bEaReR gw467-demo-web")]
    assert asyncio.run(call_asgi(gateway_for(FIXED), "GET", "/2/tweets/12", headers)).status == 200


def test_unknown_path_gets_404_with_twitter_code_34() -> None:
    response = send(gateway_for(FIXED), "GET", "/2/not/an/endpoint", "web")
    assert response.status == 404
    assert json.loads(response.body) == {
        "errors": [{"message": "Sorry, that page does not exist", "code": 34}]
    }
    assert response.header("x-gw467-rule") == "route:none"


def test_known_path_with_unlisted_method_gets_404() -> None:
    assert send(gateway_for(FIXED), "PATCH", "/2/tweets/12", "web").status == 404


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/2/tweets/12%2F..%2F..%2Fadmin", "encoded-slash"),
        ("/2/tweets/%2e%2e", "dot-segment"),
        ("/2/tweets/../tweets/12", "dot-segment"),
        ("/2/tweets/12%00", "control-character"),
        ("/2/tweets/12;jsessionid=1", "path-parameter"),
        ("/2/tweets/12%252F", "double-encoding"),
        ("/2/tweets\\12", "backslash"),
        ("/2/tweets/" + "1" * 3000, "too-long"),
        ("/2/tweets/%zz", "bad-percent-encoding"),
    ],
)
def test_ambiguous_paths_are_refused_with_400_before_reaching_the_upstream(path: str, reason: str) -> None:
    upstream = RecordingApp()
    response = send(gateway_for(FIXED, upstream), "GET", path, "web")
    assert response.status == 400
    assert response.header("x-gw467-rule") == f"path:{reason}"
    assert b"Bad request" in response.body
    assert upstream.scopes == []


@pytest.mark.parametrize(
    "path",
    ["/2//tweets/12", "/2/tweets/12/", "/2/TWEETS/12", "/%32/tweets/12", "//2/Tweets//12//"],
)
def test_normalized_spellings_reach_the_upstream_on_the_canonical_path(path: str) -> None:
    upstream = RecordingApp()
    response = send(gateway_for(FIXED, upstream), "GET", path, "web")
    assert response.status == 200
    (scope,) = upstream.scopes
    assert scope["path"] == "/2/tweets/12"
    assert scope["raw_path"] == b"/2/tweets/12"


def test_upstream_sees_client_plan_endpoint_and_rule_in_scope_state() -> None:
    upstream = RecordingApp()
    send(gateway_for(FIXED, upstream), "GET", "/2/users/42", "pollster-analytics")
    state = upstream.scopes[0]["state"]
    assert state["gw467_client"].id == "pollster-analytics"
    assert state["gw467_client"].first_party is False
    assert state["gw467_plan"] == "basic"
    assert state["gw467_endpoint"].id == "users.lookup"
    assert state["gw467_rule"] == "plan:basic/grant:users.*"


def test_query_string_is_forwarded_untouched() -> None:
    upstream = RecordingApp()
    app = gateway_for(FIXED, upstream)
    headers = [(b"authorization", b"Bearer gw467-demo-web")]
    asyncio.run(call_asgi(app, "GET", "/2/tweets", headers))
    scope = dict(upstream.scopes[0])
    assert scope["query_string"] == b""
    upstream.scopes.clear()

    async def with_query() -> None:
        from gateway.inprocess import http_scope

        request = http_scope("GET", "/2/tweets", headers, query_string=b"ids=1,2")

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        async def ignore(message: Message) -> None:
            return None

        await app(request, receive, ignore)

    asyncio.run(with_query())
    assert upstream.scopes[0]["query_string"] == b"ids=1,2"


@pytest.mark.parametrize(
    "spoofed",
    [
        [(b"x-internal", b"true")],
        [(b"x-first-party", b"1"), (b"x-client-class", b"web")],
        [(b"x-gw467-rule", b"exempt:first_party")],
        [(b"x-forwarded-for", b"10.0.0.1"), (b"x-real-ip", b"127.0.0.1")],
        [(b"x-api-plan", b"enterprise")],
    ],
)
def test_client_settable_headers_never_grant_an_exemption(spoofed: list[tuple[bytes, bytes]]) -> None:
    response = send(gateway_for(FIXED), "GET", "/2/links/abc", "sunrise-bot", headers=spoofed)
    assert response.status == 467


def test_quota_answers_429_with_rate_limit_headers_and_resets_with_the_window() -> None:
    now = [1_000_000.0]
    app = gateway_for(FIXED, clock=lambda: now[0])
    statuses = [send(app, "POST", "/2/tweets", "sunrise-bot").status for _ in range(51)]
    assert statuses[:50] == [201] * 50
    assert statuses[50] == 429
    limited = send(app, "POST", "/2/tweets", "sunrise-bot")
    assert json.loads(limited.body) == {"errors": [{"message": "Rate limit exceeded", "code": 88}]}
    assert limited.header("x-rate-limit-limit") == "50"
    assert limited.header("x-rate-limit-remaining") == "0"
    assert limited.header("x-gw467-rule") == "quota:free"
    now[0] += 900
    allowed = send(app, "POST", "/2/tweets", "sunrise-bot")
    assert allowed.status == 201
    assert allowed.header("x-rate-limit-remaining") == "49"


def test_denied_requests_do_not_consume_quota() -> None:
    app = gateway_for(FIXED, clock=lambda: 0.0)
    for _ in range(60):
        assert send(app, "GET", "/2/tweets/1", "sunrise-bot").status == 467
    assert send(app, "POST", "/2/tweets", "sunrise-bot").header("x-rate-limit-remaining") == "49"


def test_exempt_first_party_clients_have_no_quota() -> None:
    app = gateway_for(FIXED, clock=lambda: 0.0)
    responses = [send(app, "POST", "/2/tweets", "web") for _ in range(80)]
    assert {r.status for r in responses} == {201}
    assert responses[-1].header("x-rate-limit-limit") is None


def test_websocket_handshakes_are_refused_with_policy_violation() -> None:
    app = gateway_for(FIXED)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def capture(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "websocket", "path": "/2/tweets/1", "headers": []}, receive, capture))
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "not entitled"}]


def test_lifespan_passes_through_to_the_app() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    gateway = EntitlementMiddleware(Starlette(routes=[], lifespan=lifespan), FIXED)
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    replies: list[Message] = []

    async def receive() -> Message:
        return next(incoming)

    async def reply(message: Message) -> None:
        replies.append(message)

    asyncio.run(gateway({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, reply))
    assert events == ["startup", "shutdown"]
    assert [m["type"] for m in replies] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_bad_plan_file_fails_at_construction_with_a_one_line_error(tmp_path: Any) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "x"\n[policy]\nexempt = ["first_party"]\n')
    with pytest.raises(ConfigError) as caught:
        EntitlementMiddleware(RecordingApp(), bad)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(str(bad))


def test_replace_table_changes_decisions_for_later_requests() -> None:
    app = gateway_for(FIXED)
    assert send(app, "GET", "/2/links/a", "tco").status == 301
    app.replace_table(compile_plan_set(load_plan_set(BILLING)))
    assert send(app, "GET", "/2/links/a", "tco").status == 467


def test_works_in_front_of_a_users_own_starlette_app_through_httpx() -> None:
    async def lookup(request: Request) -> JSONResponse:
        return JSONResponse({"tweet": request.path_params["id"], "client": request.state.gw467_client.id})

    app = Starlette(
        routes=[Route("/2/tweets/{id}", lookup)],
        middleware=[Middleware(EntitlementMiddleware, plans=FIXED)],
    )

    async def exchange() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw467.test") as client:
            allowed = await client.get("/2/tweets/99", headers={"Authorization": "Bearer gw467-demo-ios"})
            anonymous = await client.get("/2/tweets/99")
            return allowed, anonymous

    allowed, anonymous = asyncio.run(exchange())
    assert allowed.status_code == 200
    assert allowed.json() == {"tweet": "99", "client": "ios"}
    assert allowed.headers["x-gw467-rule"] == "exempt:first_party"
    assert anonymous.status_code == 401
