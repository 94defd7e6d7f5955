"""EntitlementMiddleware end to end, in process, with raw paths exactly as a client could send them."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gateway.core.compiler import compile_plan_set
from gateway.core.config import ConfigError
from gateway.core.decision import DecisionTable
from gateway.core.planfile import load_plan_set, parse_plan_set
from gateway.core.plans import Client, Endpoint
from gateway.fronts.demo_upstream import build_demo_app
from gateway.fronts.inprocess import InProcessResponse, call_asgi, http_scope
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.request_path.canary import CanaryController, CanaryPolicy
from gateway.request_path.responses import NOT_ENTITLED_BODY
from gateway.request_path.stage import CANARY, SHADOW, StageChange
from gateway.verification import RecordingUpstream
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED, change_now
from tests.test_decision import REALISTIC_PLAN

INCIDENT_BODY = (
    b'{"errors":[{"message":"Your current API plan does not include access to this endpoint, please see '
    b'https://developer.twitter.com/en/docs/twitter-api for more information","code":467}]}'
)


# An upstream that records the scope it was called with and answers 200 (gateway.verification's own).
RecordingApp = RecordingUpstream


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
        from gateway.fronts.inprocess import http_scope

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
    assert limited.header("retry-after") == str(900 - 1_000_000 % 900)
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


def failed_startup(app: Any) -> tuple[list[Message], BaseException | None]:
    """What `app` answers to a server's lifespan startup, and what it raised after."""
    replies: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def reply(message: Message) -> None:
        replies.append(message)

    try:
        asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, reply))
    except ConfigError as error:
        return replies, error
    return replies, None


def test_a_bad_plan_file_fails_lifespan_startup_with_its_one_line_error(tmp_path: Any) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "x"\n[policy]\nexempt = ["first_party"]\n')
    gateway = EntitlementMiddleware(RecordingApp(), bad)
    assert isinstance(gateway.startup_error, ConfigError)
    message = str(gateway.startup_error)
    assert "\n" not in message
    assert message.startswith(str(bad))
    # Raised after the message, as Starlette's router does: uvicorn stays quiet, TestClient raises.
    assert failed_startup(gateway) == (
        [{"type": "lifespan.startup.failed", "message": message}],
        gateway.startup_error,
    )


def test_a_bad_plan_file_built_lazily_by_starlette_still_fails_startup(tmp_path: Any) -> None:
    # Starlette builds Middleware(...) on its first call, the lifespan one: nothing raised before.
    app = Starlette(middleware=[Middleware(EntitlementMiddleware, plans=tmp_path / "missing.toml")])
    replies, error = failed_startup(app)
    message = f"{tmp_path / 'missing.toml'}: no such file"
    assert replies == [{"type": "lifespan.startup.failed", "message": message}]
    assert str(error) == message


def test_starlettes_test_client_raises_the_plan_files_error_on_entry(tmp_path: Any) -> None:
    with warnings.catch_warnings():
        # Starlette 1.x warns on importing its TestClient with httpx; the warning is not ours.
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    api = FastAPI()
    api.add_middleware(EntitlementMiddleware, plans=tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"missing\.toml: no such file$"), TestClient(api):
        pass


def test_without_lifespan_a_bad_plan_file_answers_500_with_its_line_and_never_reaches_the_app(
    tmp_path: Any,
) -> None:
    upstream = RecordingApp()
    response = send(EntitlementMiddleware(upstream, tmp_path / "missing.toml"), "GET", "/2/tweets/12", "web")
    assert response.status == 500
    assert json.loads(response.body) == {
        "errors": [{"message": f"gw467 is not configured: {tmp_path / 'missing.toml'}: no such file"}]
    }
    assert upstream.scopes == []
    # Header names in lower case, as ASGI requires of an app.
    assert (b"content-type", b"application/json") in response.headers
    assert (b"content-length", str(len(response.body)).encode()) in response.headers


def test_a_misconfigured_gateway_completes_a_lifespan_shutdown_it_is_sent_first(tmp_path: Any) -> None:
    gateway = EntitlementMiddleware(RecordingApp(), tmp_path / "missing.toml")
    replies: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.shutdown"}

    async def reply(message: Message) -> None:
        replies.append(message)

    asyncio.run(gateway({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, reply))
    assert replies == [{"type": "lifespan.shutdown.complete"}]


def test_a_misconfigured_gateway_closes_a_websocket_with_internal_error_and_never_reaches_the_app(
    tmp_path: Any,
) -> None:
    upstream = RecordingApp()
    gateway = EntitlementMiddleware(upstream, tmp_path / "missing.toml")
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def capture(message: Message) -> None:
        sent.append(message)

    asyncio.run(gateway({"type": "websocket", "path": "/2/tweets/1", "headers": []}, receive, capture))
    assert sent == [{"type": "websocket.close", "code": 1011, "reason": "gw467 is not configured"}]
    assert upstream.scopes == []


def test_a_direct_push_changes_decisions_for_later_requests() -> None:
    app = gateway_for(FIXED)
    assert send(app, "GET", "/2/links/a", "tco").status == 301
    change_now(app.deployment.push(compile_plan_set(load_plan_set(BILLING)), reason="replace_table"))
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


# ---------------------------------------------------------------------------
# Scopes as servers other than uvicorn may build them, the rollout's stages, and
# what every outcome feeds to availability, the canary and the metrics.
# ---------------------------------------------------------------------------

NOW = 1_678_118_400.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def bearer(client: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {DEMO_KEYS[client]}".encode())]


def scope_for(method: str, target: str, client: str | None = None, **changes: Any) -> dict[str, Any]:
    """An HTTP scope whose path and raw path are `target` as sent, with keys replaced (or removed: None)."""
    scope = dict(http_scope(method, "/", bearer(client) if client else []))
    scope["path"] = target
    scope["raw_path"] = target.encode("latin-1")
    for key, value in changes.items():
        if value is None:
            del scope[key]
        else:
            scope[key] = value
    return scope


def call_scope(app: Any, scope: dict[str, Any], body: bytes = b"") -> InProcessResponse:
    """Send one request with exactly this scope and collect the response."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0
    headers: tuple[tuple[bytes, bytes], ...] = ()
    chunks: list[bytes] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def capture(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = tuple(message.get("headers", ()))
        else:
            chunks.append(message.get("body", b""))

    asyncio.run(app(scope, receive, capture))
    return InProcessResponse(status, headers, b"".join(chunks))


def samples(app: EntitlementMiddleware) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the gateway's metrics exposition, keyed by name and labels."""
    assert app.gateway.metrics is not None
    body, _ = app.gateway.metrics.exposition()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def requests_total(client_class: str, surface: str, status: int, rule: str) -> tuple[str, frozenset[Any]]:
    labels = {"client_class": client_class, "surface": surface, "status": str(status), "rule": rule}
    return ("gw467_requests_total", frozenset(labels.items()))


def test_a_plan_set_value_is_compiled_at_construction_and_decides_requests() -> None:
    app = EntitlementMiddleware(RecordingApp(), load_plan_set(FIXED))
    assert send(app, "GET", "/2/links/a", "tco").status == 200
    assert send(app, "GET", "/2/links/a", "sunrise-bot").status == 467


def test_a_direct_push_is_recorded_with_its_reason_and_time() -> None:
    clock = Clock()
    app = gateway_for(FIXED, RecordingApp(), clock=clock)
    clock.now += 60
    change_now(app.deployment.push(compile_plan_set(load_plan_set(BILLING)), reason="replace_table"))
    assert app.gateway.in_force.changes == [
        StageChange("push:direct", "2023-03-06-billing", None, "replace_table", NOW + 60)
    ]


@pytest.mark.parametrize(
    ("path", "status", "forwarded"),
    [("/2//tweets/12/", 200, "/2/tweets/12"), ("/2/tweets/../12", 400, None)],
)
def test_a_scope_without_raw_path_is_decided_on_its_path(
    path: str, status: int, forwarded: str | None
) -> None:
    upstream = RecordingApp()
    response = call_scope(gateway_for(FIXED, upstream), scope_for("GET", path, "web", raw_path=None))
    assert response.status == status
    assert [scope["path"] for scope in upstream.scopes] == ([forwarded] if forwarded else [])


@pytest.mark.parametrize("raw_path", ["/2/tweets/12?ids=1", "/2/tweets/12?a=1?b=2", "/2/tweets/12?"])
def test_a_query_string_left_in_raw_path_is_not_part_of_the_path_decided(raw_path: str) -> None:
    upstream = RecordingApp()
    response = call_scope(gateway_for(FIXED, upstream), scope_for("GET", raw_path, "web"))
    assert (response.status, response.header("x-gw467-rule")) == (200, "exempt:first_party")
    (scope,) = upstream.scopes
    assert (scope["path"], scope["raw_path"]) == ("/2/tweets/12", b"/2/tweets/12")


def test_the_upstream_gets_the_requests_scope_state_plus_the_decision() -> None:
    # ASGI servers give each request its own copy of the lifespan state, so the gateway
    # writes into it, as Starlette's request.state does; the lifespan state is untouched.
    upstream = RecordingApp()
    lifespan_state = {"database": "pool-1"}
    request_state = dict(lifespan_state)
    call_scope(gateway_for(FIXED, upstream), scope_for("GET", "/2/tweets/12", "web", state=request_state))
    state = upstream.scopes[0]["state"]
    assert state is request_state
    assert state["database"] == "pool-1"
    assert state["gw467_rule"] == "exempt:first_party"
    assert lifespan_state == {"database": "pool-1"}


@pytest.mark.parametrize(
    ("path", "raw_path"),
    [
        ("/api/2/tweets/12", "/api/2/tweets/12"),  # uvicorn 0.26+: the root path in both
        ("/api//2/Tweets/12", "/api//2/Tweets/12"),  # the same, respelled below the root path
        ("/2/tweets/12", "/2/tweets/12"),  # an older server: the root path only in root_path
        ("/2//tweets/12", "/2//tweets/12"),  # the same, respelled
    ],
)
def test_under_a_root_path_the_decision_is_below_it_and_the_app_gets_uvicorns_shape(
    path: str, raw_path: str
) -> None:
    upstream = RecordingApp()
    scope = scope_for("GET", path, "web", raw_path=raw_path.encode(), root_path="/api")
    response = call_scope(gateway_for(FIXED, upstream), scope)
    assert (response.status, response.header("x-gw467-rule")) == (200, "exempt:first_party")
    (forwarded,) = upstream.scopes
    assert (forwarded["path"], forwarded["raw_path"], forwarded["root_path"]) == (
        "/api/2/tweets/12",
        b"/api/2/tweets/12",
        "/api",
    )
    assert forwarded["state"]["gw467_endpoint"].id == "tweets.lookup"


def test_a_root_path_is_not_part_of_the_catalogue() -> None:
    # uvicorn's /api/api/2/tweets/12 under root /api is /api/2/tweets/12 to the app: no such route.
    upstream = RecordingApp()
    scope = scope_for("GET", "/api/api/2/tweets/12", "web", root_path="/api")
    response = call_scope(gateway_for(FIXED, upstream), scope)
    assert (response.status, response.header("x-gw467-rule")) == (404, "route:none")
    assert upstream.scopes == []


def test_a_root_path_must_end_at_a_segment_boundary() -> None:
    # "/apiary/..." is not under "/api", for Starlette as for the gateway.
    scope = scope_for("GET", "/apiary/2/tweets/12", "web", root_path="/api")
    assert call_scope(gateway_for(FIXED), scope).header("x-gw467-rule") == "route:none"


@pytest.mark.parametrize("target", ["/api/_gw467/status", "/_gw467/status"])
def test_the_control_api_is_found_below_the_root_path_in_both_scope_shapes(target: str) -> None:
    response = call_scope(gateway_for(FIXED), scope_for("GET", target, root_path="/api"))
    assert response.status == 200
    assert json.loads(response.body)["classes"] == {}


def test_a_fastapi_app_under_root_path_routes_what_the_gateway_decided() -> None:
    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @api.get("/2/tweets/{tweet_id}")
    def tweet(tweet_id: str, request: Request) -> dict[str, str]:
        return {"tweet": tweet_id, "url": str(request.url.path)}

    gateway = EntitlementMiddleware(api, load_plan_set(FIXED))
    for path in ("/api//2/tweets/12", "//2/tweets/12"):
        response = call_scope(gateway, scope_for("GET", path, "web", root_path="/api"))
        assert (response.status, json.loads(response.body)) == (
            200,
            {"tweet": "12", "url": "/api/2/tweets/12"},
        )


def test_a_scope_without_root_path_is_forwarded_on_the_bare_canonical_path() -> None:
    upstream = RecordingApp()
    scope = scope_for("GET", "//2/tweets/12", "web", root_path=None)
    assert call_scope(gateway_for(FIXED, upstream), scope).status == 200
    (forwarded,) = upstream.scopes
    assert (forwarded["path"], forwarded["raw_path"]) == ("/2/tweets/12", b"/2/tweets/12")
    assert "root_path" not in forwarded


def test_the_rule_header_is_added_even_when_the_upstream_sends_no_headers() -> None:
    async def bare(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body", "body": b""})

    response = send(gateway_for(FIXED, bare), "GET", "/2/tweets/12", "web")
    assert (response.status, response.header("x-gw467-rule")) == (204, "exempt:first_party")


def test_the_upstream_reads_the_request_body_through_the_gateway() -> None:
    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": message["body"]})

    response = call_scope(gateway_for(FIXED, echo), scope_for("POST", "/2/tweets", "web"), b"hello")
    assert (response.status, response.body) == (201, b"hello")


def test_each_client_has_its_own_quota() -> None:
    app = gateway_for(FIXED, clock=lambda: NOW)
    assert [send(app, "POST", "/2/tweets", "sunrise-bot").status for _ in range(51)][-2:] == [201, 429]
    # legacy-reader is on the same (default) free plan, with a window of its own.
    other = send(app, "POST", "/2/tweets", "legacy-reader")
    assert (other.status, other.header("x-rate-limit-remaining")) == (201, "49")


class Answering:
    """An upstream that answers every request with one status."""

    def __init__(self, status: int) -> None:
        self.status = status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_gateway_refusals_of_first_party_calls_count_against_availability_but_upstream_4xx_do_not() -> None:
    # Under the billing file `web` is on the free plan: 50 posts, then 429s made by the gateway.
    app = gateway_for(BILLING, Answering(404), clock=lambda: NOW)
    statuses = [send(app, "POST", "/2/tweets", "web").status for _ in range(55)]
    assert statuses == [404] * 50 + [429] * 5
    assert app.gateway.availability.window(NOW, 300, "web") == (55, 5)
    # A 5xx-only page sees none of it.
    assert app.gateway.availability.window(NOW, 300, "web", only_5xx=True) == (55, 0)


def test_an_upstream_that_raises_is_recorded_as_a_500_and_its_error_propagates() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("upstream bug")

    app = EntitlementMiddleware(
        broken, compile_plan_set(load_plan_set(FIXED)), clock=lambda: NOW, metrics=True
    )
    with pytest.raises(RuntimeError, match="upstream bug"):
        send(app, "GET", "/2/tweets/12", "web")
    assert samples(app)[requests_total("web", "tweets", 500, "exempt:first_party")] == 1
    assert app.gateway.availability.window(NOW, 300, "web") == (1, 1)
    assert app.gateway.availability.window(NOW, 300, "web", only_5xx=True) == (1, 1)


def test_every_refusal_is_counted_in_metrics_with_its_rule_and_unknown_for_what_was_not_learnt() -> None:
    app = EntitlementMiddleware(
        RecordingApp(), compile_plan_set(load_plan_set(FIXED)), clock=lambda: NOW, metrics=True
    )
    send(app, "GET", "/2/tweets/12")
    send(app, "GET", "/2/tweets/../12", "web")
    send(app, "GET", "/2/nowhere", "web")
    send(app, "GET", "/2/links/a", "sunrise-bot")
    for _ in range(51):
        send(app, "POST", "/2/tweets", "sunrise-bot")
    counted = samples(app)
    assert counted[requests_total("unknown", "unknown", 401, "auth:missing")] == 1
    assert counted[requests_total("unknown", "unknown", 400, "path:dot-segment")] == 1
    assert counted[requests_total("web", "unknown", 404, "route:none")] == 1
    assert counted[requests_total("third_party", "links", 467, "plan:free/deny")] == 1
    assert counted[requests_total("third_party", "tweets", 200, "plan:free/grant:tweets.create")] == 50
    assert counted[requests_total("third_party", "tweets", 429, "quota:free")] == 1


def test_the_duration_metric_is_the_time_from_request_to_response() -> None:
    readings = iter([100.0, 100.25])
    app = EntitlementMiddleware(
        RecordingApp(),
        compile_plan_set(load_plan_set(FIXED)),
        clock=lambda: NOW,
        metrics=True,
        timer=lambda: next(readings),
    )
    send(app, "GET", "/2/tweets/12", "web")
    labels = frozenset(
        {"client_class": "web", "surface": "tweets", "status": "200", "rule": "exempt:first_party"}.items()
    )
    counted = samples(app)
    assert counted["gw467_request_duration_seconds_sum", labels] == 0.25
    assert counted["gw467_request_duration_seconds_bucket", labels | {("le", "0.25")}] == 1
    assert counted["gw467_request_duration_seconds_bucket", labels | {("le", "0.1")}] == 0


def test_a_shadow_divergence_is_recorded_with_the_request_as_sent_and_counted_in_metrics() -> None:
    app = EntitlementMiddleware(
        RecordingApp(), compile_plan_set(load_plan_set(BASELINE)), clock=lambda: NOW, metrics=True
    )
    change_now(app.deployment.push(compile_plan_set(load_plan_set(BILLING)), SHADOW))
    assert send(app, "GET", "/2//links/abc", "tco").status == 200
    assert send(app, "GET", "/2/links/abc").status == 401  # decided alike by both: no divergence
    assert send(app, "GET", "/2/tweets/12", "newsdesk-pro").status == 200  # granted by both
    shadow = app.gateway.in_force.stage.shadow
    assert shadow is not None and shadow.observed == 3
    (divergence,) = shadow.sample
    assert (divergence.method, divergence.path, divergence.client_id) == ("GET", "/2//links/abc", "tco")
    labels = {"client_class": "tco", "endpoint": "links.resolve", "direction": "allow_to_deny"}
    counted = samples(app)
    assert counted["gw467_shadow_divergences_total", frozenset(labels.items())] == 1
    assert sum(v for (name, _), v in counted.items() if name == "gw467_shadow_divergences_total") == 1


def canary_gateway(
    candidate: Any, policy: CanaryPolicy, active: Any = BASELINE, **options: Any
) -> EntitlementMiddleware:
    app = EntitlementMiddleware(RecordingApp(), compile_plan_set(load_plan_set(active)), **options)
    table = candidate if isinstance(candidate, DecisionTable) else compile_plan_set(load_plan_set(candidate))
    change_now(app.deployment.push(table, CANARY, policy))
    return app


def test_only_requests_in_the_canary_slice_are_decided_by_the_candidate() -> None:
    policy = CanaryPolicy(fraction=0.1, threshold=1.0)
    expected = CanaryController(policy)
    members = [expected.in_slice("tco") for _ in range(30)]
    app = canary_gateway(BILLING, policy)
    statuses = [send(app, "GET", "/2/links/a", "tco").status for _ in range(30)]
    assert statuses == [467 if member else 200 for member in members]
    assert statuses.count(467) == 3


def test_a_request_no_table_can_authenticate_is_refused_during_a_canary() -> None:
    app = canary_gateway(BILLING, CanaryPolicy(fraction=1.0))
    response = send(app, "GET", "/2/links/a")
    assert (response.status, response.header("x-gw467-rule")) == (401, "auth:missing")


def test_a_client_or_endpoint_only_the_canary_candidate_knows_is_decided_by_the_candidate() -> None:
    baseline = load_plan_set(BASELINE)
    newcomer = Client("newcomer", "web", True, (hashlib.sha256(b"newcomer-key").hexdigest(),))
    endpoint = Endpoint("links.stats", "GET", "/2/links/{code}/stats", "links")
    candidate = dataclasses.replace(
        baseline, clients=(*baseline.clients, newcomer), endpoints=(*baseline.endpoints, endpoint)
    )
    app = canary_gateway(compile_plan_set(candidate), CanaryPolicy(fraction=1.0))
    new_key = [(b"authorization", b"Bearer newcomer-key")]
    assert asyncio.run(call_asgi(app, "GET", "/2/links/a", new_key)).status == 200
    assert send(app, "GET", "/2/links/a/stats", "tco").status == 200
    assert send(gateway_for(BASELINE, RecordingApp()), "GET", "/2/links/a/stats", "tco").status == 404


def test_the_canary_observes_every_request_it_decides_forwarded_or_refused() -> None:
    # A threshold of 1.0 never trips, so all 55 requests stay in the canary.
    clock = Clock()
    app = canary_gateway(BILLING, CanaryPolicy(fraction=1.0, threshold=1.0), FIXED, clock=clock)
    statuses = [send(app, "POST", "/2/tweets", "web").status for _ in range(55)]
    assert statuses == [200] * 50 + [429] * 5
    canary = app.gateway.in_force.stage.canary
    assert canary is not None
    assert (canary.requests, canary.bad) == (55, 5)


def test_a_tripped_canary_is_rolled_back_at_that_moment_and_counted_in_metrics() -> None:
    clock = Clock()
    app = canary_gateway(BILLING, CanaryPolicy(fraction=1.0), clock=clock, metrics=True)
    for n in range(20):
        clock.now += 0.5
        assert send(app, "GET", f"/2/links/{n}", "tco").status == 467
    assert app.gateway.in_force.stage.canary is None
    rollback = app.gateway.in_force.changes[-1]
    assert (rollback.action, rollback.at) == ("rollback:candidate", NOW + 10)
    counted = samples(app)
    bad = frozenset({"client_class": "tco", "outcome": "bad"}.items())
    assert counted["gw467_canary_requests_total", bad] == 20
    assert counted["gw467_canary_rollbacks_total", frozenset({("reason", "first-party error rate")})] == 1


# --- real route shapes, public endpoints, preflights and the plan file's own refusal bodies ------


def realistic_gateway(upstream: Any = None) -> EntitlementMiddleware:
    plan_set = parse_plan_set(REALISTIC_PLAN, "realistic.toml")
    return EntitlementMiddleware(upstream if upstream is not None else build_demo_app(plan_set), plan_set)


APP_KEY = [(b"authorization", b"Bearer app-key-new-0002")]


def test_a_literal_route_beside_a_parameter_route_reaches_the_literal_handler_of_the_demo_app() -> None:
    app = realistic_gateway()
    featured = asyncio.run(call_asgi(app, "GET", "/2/users/me", APP_KEY))
    other = asyncio.run(call_asgi(app, "GET", "/2/users/jack", APP_KEY))
    assert featured.header("x-gw467-rule") == other.header("x-gw467-rule") == "plan:free/grant:users.*"
    assert json.loads(other.body)["data"]["username"] == "jack"
    assert json.loads(featured.body)["data"]["username"] == "users.me"  # the literal route, no parameter


def test_an_encoded_utf8_value_reaches_the_app_decoded_with_its_raw_path_re_encoded() -> None:
    upstream = RecordingApp()
    response = asyncio.run(call_asgi(realistic_gateway(upstream), "GET", "/v1/items/jos%c3%a9", APP_KEY))
    assert response.status == 200
    (scope,) = upstream.scopes
    assert (scope["path"], scope["raw_path"]) == ("/v1/items/jos\u00e9", b"/v1/items/jos%C3%A9")


def test_a_public_endpoint_reaches_the_app_without_a_key_and_is_counted() -> None:
    upstream = RecordingApp()
    app = EntitlementMiddleware(upstream, parse_plan_set(REALISTIC_PLAN, "realistic.toml"), metrics=True)
    response = asyncio.run(call_asgi(app, "GET", "/healthz"))
    assert (response.status, response.header("x-gw467-rule")) == (200, "public")
    assert upstream.scopes[0]["state"]["gw467_client"] is None
    assert samples(app)[requests_total("unknown", "ops", 200, "public")] == 1


def test_a_cors_preflight_reaches_the_app_without_a_key_when_the_policy_allows_it() -> None:
    preflight = [(b"origin", b"https://app.example"), (b"access-control-request-method", b"POST")]
    allowed = asyncio.run(call_asgi(realistic_gateway(RecordingApp()), "OPTIONS", "/v1/items", preflight))
    assert (allowed.status, allowed.header("x-gw467-rule")) == (200, "cors:preflight")
    plain = asyncio.run(call_asgi(realistic_gateway(RecordingApp()), "OPTIONS", "/v1/items", preflight[:1]))
    assert (plain.status, plain.header("x-gw467-rule")) == (401, "auth:missing")


def test_head_reaches_the_app_as_the_get_it_mirrors() -> None:
    response = asyncio.run(call_asgi(realistic_gateway(), "HEAD", "/v1/items/42", APP_KEY))
    assert (response.status, response.header("x-gw467-rule")) == (200, "plan:free/grant:items.*")


def test_a_plan_files_responses_table_replaces_the_refusal_body_but_not_the_status() -> None:
    nobody = [(b"authorization", b"Bearer nobody-key-0001")]
    denied = asyncio.run(call_asgi(realistic_gateway(), "GET", "/v1/items/1", nobody))
    assert denied.status == 467
    assert denied.body == b'{"errors":[{"message":"Your plan does not include this endpoint","code":1001}]}'
    assert denied.header("content-length") == str(len(denied.body))
    unknown = asyncio.run(call_asgi(realistic_gateway(), "GET", "/v1/items/1"))
    assert unknown.body == b'{"errors":[{"message":"Could not authenticate you","code":32}]}'


def test_rule_header_refusals_keeps_the_rule_off_the_apps_responses_only() -> None:
    plan_set = load_plan_set(FIXED)
    app = EntitlementMiddleware(build_demo_app(plan_set), compile_plan_set(plan_set), rule_header="refusals")
    allowed = send(app, "GET", "/2/links/abc123", "tco")
    denied = send(app, "GET", "/2/tweets/12", "sunrise-bot")
    assert allowed.status == 301
    assert allowed.header("x-gw467-rule") is None
    assert (denied.status, denied.header("x-gw467-rule")) == (467, "plan:free/deny")


def test_rule_header_refusals_still_sends_the_quota_headers_on_the_apps_responses() -> None:
    app = EntitlementMiddleware(RecordingApp(), FIXED, rule_header="refusals")
    response = send(app, "POST", "/2/tweets", "sunrise-bot")
    assert response.status == 200
    assert response.header("x-gw467-rule") is None
    assert response.header("x-rate-limit-remaining") == "49"


def test_rule_header_takes_all_or_refusals() -> None:
    with pytest.raises(ValueError, match="rule_header must be one of all, refusals, not 'none'"):
        EntitlementMiddleware(RecordingApp(), FIXED, rule_header="none")
