"""/_gw467/: the status page, the metrics, and the admin API that pushes, promotes and rolls back."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.serving.inprocess import InProcessResponse, call_asgi
from gateway.serving.middleware import EntitlementMiddleware
from gateway.serving.upstream import build_demo_app
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED

TOKEN = "admin-token-for-tests"
ADMIN = [(b"authorization", f"Bearer {TOKEN}".encode())]


class Clock:
    def __init__(self) -> None:
        self.now = 1_678_118_400.0

    def __call__(self) -> float:
        return self.now


def gateway(clock: Clock | None = None, **options: Any) -> EntitlementMiddleware:
    plan_set = load_plan_set(BASELINE)
    return EntitlementMiddleware(
        build_demo_app(plan_set), compile_plan_set(plan_set), clock=clock or Clock(), **options
    )


def call(
    app: EntitlementMiddleware, method: str, path: str, headers: Any = None, body: bytes = b""
) -> InProcessResponse:
    return asyncio.run(call_asgi(app, method, path, headers or [], body))


def as_client(app: EntitlementMiddleware, client: str, method: str, path: str) -> int:
    return call(app, method, path, [(b"authorization", f"Bearer {DEMO_KEYS[client]}".encode())]).status


def every_decision(app: EntitlementMiddleware) -> list[tuple[str, str, int]]:
    """Each demo client's status on each endpoint: a fingerprint of the table in force."""
    plan_set = load_plan_set(BASELINE)
    return [
        (
            client,
            endpoint.id,
            as_client(app, client, endpoint.method, endpoint.path.replace("{", "x").replace("}", "")),
        )
        for client in DEMO_KEYS
        for endpoint in plan_set.endpoints
    ]


def test_status_page_is_operational_with_no_trouble() -> None:
    app = gateway()
    as_client(app, "tco", "GET", "/2/links/a")
    status = json.loads(call(app, "GET", "/_gw467/status").body)
    assert status["status"] == "operational"
    assert status["classes"]["tco"]["status"] == "operational"
    assert status["deployment"]["active"] == "2023-02-baseline"


def test_status_page_says_outage_while_first_party_calls_get_467() -> None:
    app = gateway()
    app.gateway.push(compile_plan_set(load_plan_set(BILLING)), reason="replace_table")
    for n in range(30):
        as_client(app, "tco", "GET", f"/2/links/{n}")
    status = json.loads(call(app, "GET", "/_gw467/status").body)
    assert status["status"] == "outage"
    assert status["classes"]["tco"]["status"] == "outage"
    assert status["alert"]["firing"] is True


def test_a_5xx_only_status_page_stays_operational_through_the_467_outage() -> None:
    app = gateway(sli="5xx")
    app.gateway.push(compile_plan_set(load_plan_set(BILLING)), reason="replace_table")
    for n in range(30):
        as_client(app, "tco", "GET", f"/2/links/{n}")
    status = json.loads(call(app, "GET", "/_gw467/status").body)
    assert status["status"] == "operational"
    assert status["alert"]["firing"] is False


def test_metrics_are_off_by_default_and_exposed_when_on() -> None:
    assert call(gateway(), "GET", "/_gw467/metrics").status == 404
    app = gateway(metrics=True)
    as_client(app, "tco", "GET", "/2/links/a")
    response = call(app, "GET", "/_gw467/metrics")
    assert response.status == 200
    text = response.body.decode()
    assert (
        'gw467_requests_total{client_class="tco",rule="exempt:first_party",status="301",surface="links"} 1.0'
        in text
    )
    assert (
        'gw467_deployment_info{active_version="2023-02-baseline",candidate_version="",mode="none"} 1.0'
        in text
    )


def test_the_admin_api_is_off_without_a_token() -> None:
    response = call(gateway(), "POST", "/_gw467/admin/rollback", ADMIN)
    assert response.status == 404
    assert "admin API is off" in response.body.decode()


@pytest.mark.parametrize(
    "headers",
    [[], [(b"authorization", b"Bearer wrong-token")], [(b"authorization", f"Basic {TOKEN}".encode())]],
)
def test_the_admin_api_refuses_a_missing_or_wrong_token(headers: Any) -> None:
    app = gateway(admin_token=TOKEN)
    response = call(app, "POST", "/_gw467/admin/plans", headers, BILLING.read_bytes())
    assert response.status == 401
    assert app.gateway.table.version == "2023-02-baseline"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'version = "broken"\n', "<pushed plan file>: plans: missing required key"),
        (b"[plans\n", "<pushed plan file>:1:"),
        (BILLING.read_bytes().replace(b'plan = "basic"', b'plan = "gold"'), "unknown plan 'gold'"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_bad_pushed_file_is_refused_with_400_and_one_line_and_changes_no_decision(
    body: bytes, expected: str
) -> None:
    app = gateway(admin_token=TOKEN)
    before = every_decision(app)
    response = call(app, "POST", "/_gw467/admin/plans", ADMIN, body)
    assert response.status == 400
    message = json.loads(response.body)["errors"][0]["message"]
    assert expected in message and "\n" not in message
    assert every_decision(app) == before
    assert app.gateway.rollout.events == []


def test_a_direct_push_changes_decisions_and_a_rollback_restores_them_exactly() -> None:
    app = gateway(admin_token=TOKEN)
    before = every_decision(app)
    assert call(app, "POST", "/_gw467/admin/plans", ADMIN, BILLING.read_bytes()).status == 200
    assert as_client(app, "tco", "GET", "/2/links/a") == 467
    assert call(app, "POST", "/_gw467/admin/rollback", ADMIN).status == 200
    assert every_decision(app) == before


def test_a_shadow_push_never_changes_a_response_but_counts_divergences() -> None:
    app = gateway(admin_token=TOKEN)
    before = every_decision(app)
    assert call(app, "POST", "/_gw467/admin/plans?mode=shadow", ADMIN, BILLING.read_bytes()).status == 200
    assert every_decision(app) == before
    deployment = json.loads(call(app, "GET", "/_gw467/admin/deployment", ADMIN).body)
    shadow = deployment["shadow"]
    assert deployment["mode"] == "shadow" and deployment["candidate"] == "2023-03-06-billing"
    assert shadow["first_party_allow_to_deny"] > 0
    assert shadow["sample"][0]["candidate_rule"] == "plan:free/deny"


def test_promote_puts_the_shadowed_candidate_in_force() -> None:
    app = gateway(admin_token=TOKEN)
    call(app, "POST", "/_gw467/admin/plans?mode=shadow", ADMIN, FIXED.read_bytes())
    assert call(app, "POST", "/_gw467/admin/promote", ADMIN).status == 200
    assert app.gateway.table.version == "2023-03-06-billing-fixed"
    assert call(app, "POST", "/_gw467/admin/promote", ADMIN).status == 409


def test_a_canary_of_the_billing_plan_rolls_itself_back_on_first_party_errors() -> None:
    clock = Clock()
    app = gateway(clock, admin_token=TOKEN)
    pushed = call(app, "POST", "/_gw467/admin/plans?mode=canary&fraction=1.0", ADMIN, BILLING.read_bytes())
    assert pushed.status == 200
    statuses = []
    for n in range(40):
        clock.now += 0.5
        statuses.append(as_client(app, "tco", "GET", f"/2/links/{n}"))
    assert statuses[:20] == [467] * 20  # min_requests before the controller may judge
    assert set(statuses[20:]) == {301}  # rolled back: the active table answers again
    deployment = json.loads(call(app, "GET", "/_gw467/admin/deployment", ADMIN).body)
    assert deployment["mode"] == "none"
    assert deployment["events"][-1]["action"] == "rollback:candidate"
    assert deployment["events"][-1]["reason"].startswith("canary: first-party error rate")


@pytest.mark.parametrize("query", ["mode=sideways", "mode=canary&fraction=2", "mode=canary&unit=region"])
def test_bad_push_options_are_refused_with_400(query: str) -> None:
    app = gateway(admin_token=TOKEN)
    response = call(app, "POST", f"/_gw467/admin/plans?{query}", ADMIN, BILLING.read_bytes())
    assert response.status == 400
    assert app.gateway.table.version == "2023-02-baseline" and app.gateway.rollout.stage.candidate is None


def test_rollback_with_nothing_to_roll_back_is_409() -> None:
    response = call(gateway(admin_token=TOKEN), "POST", "/_gw467/admin/rollback", ADMIN)
    assert response.status == 409


def test_unknown_gateway_paths_are_404_and_never_reach_the_upstream() -> None:
    app = gateway(admin_token=TOKEN)
    assert call(app, "GET", "/_gw467/secrets").status == 404
    assert call(app, "GET", "/_gw467/admin/../../2/tweets/1", ADMIN).status == 404


def test_an_oversized_plan_file_is_refused_with_413() -> None:
    app = gateway(admin_token=TOKEN)
    response = call(app, "POST", "/_gw467/admin/plans", ADMIN, b"#" * (1 << 20) + b"x")
    assert response.status == 413
