"""CORS on the gateway's own refusals: a page of an origin the plan file lists (`[policy]
cors_origins`) can read the 467 (and 401, 404, 400, 429) as it reads the app's answers; no
other origin is ever sent back."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.core.config import ConfigError
from gateway.core.planfile import parse_plan_set
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.request_path.responses import CORS_EXPOSED
from tests.conftest import BILLING, DEMO_KEYS

PAGE = "https://app.example"
BOT = {"Authorization": f"Bearer {DEMO_KEYS['sunrise-bot']}"}
TCO = {"Authorization": f"Bearer {DEMO_KEYS['tco']}"}


def billing_with(policy_lines: str) -> str:
    """The billing plan file with these lines added to its [policy] table."""
    text = BILLING.read_text()
    assert text.count("[policy]\n") == 1
    return text.replace("[policy]\n", f"[policy]\n{policy_lines}\n")


async def answer(plan_text: str, requests: list[tuple[str, str, dict[str, str]]]) -> list[httpx.Response]:
    async def app_answer(request: object) -> PlainTextResponse:
        return PlainTextResponse("from the app")

    app = Starlette(routes=[Route("/2/{rest:path}", app_answer, methods=["GET", "POST"])])
    gateway = EntitlementMiddleware(app, parse_plan_set(plan_text, "cors.toml"))
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        return [await client.request(method, path, headers=headers) for method, path, headers in requests]


def one(plan_text: str, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    (response,) = asyncio.run(answer(plan_text, [(method, path, headers)]))
    return response


NAMED = billing_with(f'cors_origins = ["{PAGE}", "http://127.0.0.1:8080"]')


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/2/links/t3st", TCO, 467),
        ("GET", "/2/links/t3st", {}, 401),
        ("GET", "/2/nowhere", TCO, 404),
        ("GET", "/2/links/%2e%2e", TCO, 400),
    ],
)
def test_a_refusal_to_a_listed_origin_carries_that_origin_and_exposes_the_rule(
    method: str, path: str, headers: dict[str, str], status: int
) -> None:
    response = one(NAMED, method, path, {**headers, "Origin": PAGE})
    assert response.status_code == status
    assert response.headers.get_list("access-control-allow-origin") == [PAGE]
    assert response.headers["vary"] == "origin"
    exposed = response.headers["access-control-expose-headers"].split(", ")
    assert "x-gw467-rule" in exposed and response.headers["x-gw467-rule"]


def test_a_429_exposes_its_rate_limit_headers_to_a_listed_origin() -> None:
    requests = [("POST", "/2/tweets", {**BOT, "Origin": PAGE})] * 51
    *admitted, refused = asyncio.run(answer(NAMED, requests))
    assert {response.status_code for response in admitted} == {200}
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == PAGE
    exposed = set(refused.headers["access-control-expose-headers"].split(", "))
    sent = {name for name in refused.headers if name.startswith("x-rate-limit-") or name == "retry-after"}
    assert sent and sent <= exposed
    assert CORS_EXPOSED[1].decode() == refused.headers["access-control-expose-headers"]


@pytest.mark.parametrize("origin", ["https://evil.example", "https://app.example.evil.example", "null"])
def test_an_origin_not_listed_is_never_sent_back(origin: str) -> None:
    response = one(NAMED, "GET", "/2/links/t3st", {**TCO, "Origin": origin})
    assert response.status_code == 467
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-expose-headers" not in response.headers
    assert response.headers["vary"] == "origin"  # a cache must not hand this answer to a listed origin


def test_any_origin_is_answered_with_a_star_never_the_origin_itself() -> None:
    response = one(billing_with('cors_origins = ["*"]'), "GET", "/2/links/t3st", {**TCO, "Origin": PAGE})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers


def test_without_an_origin_header_or_without_cors_origins_a_refusal_has_no_cors_headers() -> None:
    no_origin = one(NAMED, "GET", "/2/links/t3st", TCO)
    not_configured = one(BILLING.read_text(), "GET", "/2/links/t3st", {**TCO, "Origin": PAGE})
    assert "access-control-allow-origin" not in no_origin.headers
    assert not [
        name for name in not_configured.headers if name.startswith("access-control-") or name == "vary"
    ]


def test_the_apps_own_answers_are_left_to_the_app() -> None:
    media = {"Authorization": f"Bearer {DEMO_KEYS['sunrise-bot']}", "Origin": PAGE}
    allowed = one(NAMED, "POST", "/2/tweets", media)
    assert allowed.status_code == 200 and allowed.text == "from the app"
    assert "access-control-allow-origin" not in allowed.headers


def test_listed_origins_are_lower_cased_as_browsers_send_them() -> None:
    policy = parse_plan_set(billing_with('cors_origins = ["HTTPS://App.Example:8443"]'), "f.toml").policy
    assert policy.cors_origins == ("https://app.example:8443",)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('["https://app.example/"]', "cors_origins[0]: 'https://app.example/' is not an origin"),
        ('["app.example"]', "cors_origins[0]: 'app.example' is not an origin"),
        ('["ftp://app.example"]', "cors_origins[0]: 'ftp://app.example' is not an origin"),
        (
            '["https://a.example", "https://A.example"]',
            "cors_origins[1]: origin 'https://A.example' is listed twice",
        ),
        ('["*", "https://a.example"]', "cors_origins: '*' (any origin) stands alone"),
    ],
)
def test_an_origin_that_is_not_one_is_a_one_line_error_naming_the_key(value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_plan_set(billing_with(f"cors_origins = {value}"), "f.toml")
    assert str(refused.value).startswith(f"f.toml: policy.{problem}")
    assert "\n" not in str(refused.value)
