"""`/_gw467/check`: the middleware's decision for a request another proxy holds, loopback or token only."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.config import ConfigError
from gateway.core.planfile import load_plan_set
from gateway.fronts.inprocess import InProcessResponse, call_asgi, http_scope, receive_once
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.verification import RecordingUpstream
from tests.conftest import BILLING, DEMO_KEYS, FIXED
from tests.test_middleware import INCIDENT_BODY, send


def gateway(plans: Any = BILLING, **options: Any) -> EntitlementMiddleware:
    return EntitlementMiddleware(RecordingUpstream(), compile_plan_set(load_plan_set(plans)), **options)


def check(
    app: EntitlementMiddleware,
    method: str,
    uri: str,
    client: str | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> InProcessResponse:
    headers = [(b"x-original-method", method.encode()), (b"x-original-uri", uri.encode()), *(extra or [])]
    if client is not None:
        headers.append((b"authorization", f"Bearer {DEMO_KEYS[client]}".encode()))
    return asyncio.run(call_asgi(app, "GET", "/_gw467/check", headers))


def test_the_check_answers_what_the_middleware_answers_for_the_same_request() -> None:
    asked, direct = gateway(), gateway()
    cases = [
        ("GET", "/2/links/t3st", "tco"),
        ("GET", "/2/tweets/12", "web"),
        ("POST", "/2/tweets", "sunrise-bot"),
        ("GET", "/2/tweets/12", None),
        ("GET", "/2/nowhere", "web"),
        ("GET", "/2/links/%2e%2e", "tco"),
    ]
    for method, path, client in cases:
        answer, served = check(asked, method, path, client), send(direct, method, path, client)
        assert answer.status == served.status, (method, path, client)
        assert answer.header("x-gw467-rule") == served.header("x-gw467-rule")
        assert answer.body == b""
        if served.status != 200:
            assert answer.header("x-gw467-body") == served.body.decode()
    assert check(asked, "GET", "/2/links/t3st", "tco").header("x-gw467-body") == INCIDENT_BODY.decode()


def test_a_passed_request_names_its_client_class_and_plan_for_the_app() -> None:
    answer = check(gateway(), "POST", "/2/tweets?x=1", "sunrise-bot")
    assert answer.status == 200
    assert (answer.header("x-gw467-client"), answer.header("x-gw467-class")) == ("sunrise-bot", "third_party")
    assert answer.header("x-gw467-plan") == "free"
    assert answer.header("x-rate-limit-remaining") == "49"


def test_the_check_spends_the_same_quota_and_answers_429_with_retry_after() -> None:
    app = gateway(FIXED)
    answers = [check(app, "POST", "/2/tweets", "sunrise-bot").status for _ in range(51)]
    assert answers == [200] * 50 + [429]
    limited = check(app, "POST", "/2/tweets", "sunrise-bot")
    assert limited.header("x-gw467-rule") == "quota:free" and limited.header("retry-after")
    assert send(app, "POST", "/2/tweets", "sunrise-bot").status == 429  # one ledger for both


def test_a_401_from_the_check_carries_the_bearer_challenge() -> None:
    answer = check(gateway(), "GET", "/2/tweets/12")
    assert answer.status == 401 and answer.header("www-authenticate") == 'Bearer realm="gw467"'


def test_the_check_counts_in_the_status_page_as_the_middleware_would() -> None:
    asked, direct = gateway(clock=lambda: 1000.0), gateway(clock=lambda: 1000.0)
    for _ in range(30):
        check(asked, "GET", "/2/tweets/12", "web")
        send(direct, "GET", "/2/tweets/12", "web")
    assert asked.gateway.status()["classes"] == direct.gateway.status()["classes"]
    assert asked.gateway.status()["classes"]["web"]["status"] != "operational"


def from_address(app: EntitlementMiddleware, host: str, token: bytes | None = None) -> int:
    headers = [(b"x-original-method", b"GET"), (b"x-original-uri", b"/2/links/t3st")]
    if token is not None:
        headers.append((b"x-gw467-check-token", token))
    scope = http_scope("GET", "/_gw467/check", headers) | {"client": (host, 4000)}
    statuses: list[int] = []

    async def collect(message: Any) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(app(scope, receive_once(b""), collect))
    return statuses[0]


def test_only_loopback_or_the_check_token_is_answered() -> None:
    app = gateway(check_token="s3cret")
    assert from_address(app, "127.0.0.1") == 401
    assert from_address(app, "::1") == 401
    assert from_address(app, "203.0.113.7") == 403
    assert from_address(app, "203.0.113.7", b"wrong") == 403
    assert from_address(app, "203.0.113.7", b"s3cret") == 401
    assert from_address(gateway(), "203.0.113.7", b"s3cret") == 403  # no token configured: loopback only


def test_a_check_without_the_original_request_is_400() -> None:
    answer = asyncio.run(call_asgi(gateway(), "GET", "/_gw467/check"))
    assert answer.status == 400 and b"X-Original-URI" in answer.body


def test_a_refusal_body_reaches_the_header_as_one_line_of_ascii_json(tmp_path: Any) -> None:
    """A plan file's body written over several lines, or with non-ASCII text, made nginx answer
    503 to every such refusal: a header cannot hold a line break."""
    plans = tmp_path / "plans.toml"
    plans.write_text(
        FIXED.read_text()
        + "\n[responses]\n"
        + 'not_entitled = { body = """{\n  "detail": "Pas dans votre forfait",\n  "code": 1}""" }\n'
        + 'unauthenticated = { message = "Clé refusée\\r\\nX-Injected: yes" }\n'
    )
    app = gateway(plans)
    refused = check(app, "GET", "/2/tweets/search/all", "sunrise-bot")
    unknown = check(app, "GET", "/2/tweets/12", None)
    for answer, served in (
        (refused, send(app, "GET", "/2/tweets/search/all", "sunrise-bot")),
        (unknown, send(app, "GET", "/2/tweets/12", None)),
    ):
        raw = dict(answer.headers)[b"x-gw467-body"]
        assert raw.isascii() and b"\r" not in raw and b"\n" not in raw
        assert json.loads(raw) == json.loads(served.body)
    assert refused.status == 467 and unknown.status == 401


def test_a_refusal_body_too_long_for_a_header_is_refused_by_the_plan_file(tmp_path: Any) -> None:
    plans = tmp_path / "plans.toml"
    # 800 characters, but 4,800 bytes once each é is escaped for the header.
    plans.write_text(FIXED.read_text() + f'\n[responses]\nquota = {{ message = "{"é" * 800}" }}\n')
    with pytest.raises(ConfigError) as refused:
        load_plan_set(plans)
    assert "responses.quota: longer than 2,048 bytes as one line of JSON" in str(refused.value)


def test_the_original_method_or_uri_sent_twice_is_a_400() -> None:
    app = gateway()
    twice = check(app, "GET", "/2/links/t3st", "tco", extra=[(b"x-original-uri", b"/2/tweets/12")])
    assert twice.status == 400
    assert twice.header("x-gw467-rule") == "path:duplicate-original-header"
    both = check(app, "GET", "/2/links/t3st", "tco", extra=[(b"x-original-method", b"POST")])
    assert both.status == 400


def test_a_passed_request_names_the_path_to_forward_as_decided() -> None:
    answer = check(gateway(FIXED), "GET", "/2//TWEETS/jos%C3%A9?x=1", "web")
    assert answer.status == 200
    assert answer.header("x-gw467-path") == "/2/tweets/jos%C3%A9"


@pytest.mark.parametrize(
    ("uri", "extra", "rule"),
    [
        ("/2/tweets", [(b"x-http-method-override", b"GET")], "path:method-override"),
        ("/2/tweets", [(b"x-method-override", b"GET")], "path:method-override"),
        ("/2/tweets?_method=GET", [], "path:method-override"),
        ("/2/tweets?a=1&%5Fmethod=GET", [], "path:method-override"),
        ("/2/tweets", [(b"x-original-url", b"/2/users/7")], "path:url-override"),
        ("/2/tweets", [(b"x-original-url", b"http://h/2/tweets?x=1")], "path:url-override"),
        ("/2/tweets", [(b"x-rewrite-url", b"/2/users/7")], "path:url-override"),
        ("/2/tweets", [(b"x-gw467-client", b"web")], "path:gateway-header"),
        ("/2/tweets", [(b"x-gw467-plan", b"enterprise")], "path:gateway-header"),
    ],
)
def test_the_check_refuses_an_override_or_a_clients_gw467_header(
    uri: str, extra: list[tuple[bytes, bytes]], rule: str
) -> None:
    """The proxy passes the client's headers on to the app (and `_method` in the query): the check
    refuses what it cannot strip, so the app never serves another method or hears a forged who."""
    answer = check(gateway(FIXED), "POST", uri, "sunrise-bot", extra)
    assert (answer.status, answer.header("x-gw467-rule")) == (400, rule)
    assert json.loads(answer.header("x-gw467-body") or "")["errors"][0]["message"].startswith("Bad request")


def test_the_check_token_is_not_a_forged_gw467_header() -> None:
    answer = check(gateway(FIXED), "POST", "/2/tweets", "sunrise-bot", [(b"x-gw467-check-token", b"t")])
    assert answer.status == 200


@pytest.mark.parametrize("url", [b"/2/tweets?a=1", b"https://api.example/2/tweets?a=1"])
def test_an_original_url_naming_the_request_decided_is_the_proxys_own(url: bytes) -> None:
    """Kubernetes ingress-nginx sets X-Original-URL ($scheme://$host$request_uri) on its auth
    subrequest: the same request as X-Original-URI, so no override."""
    answer = check(gateway(FIXED), "POST", "/2/tweets?a=1", "sunrise-bot", [(b"x-original-url", url)])
    assert answer.status == 200
