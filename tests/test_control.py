"""/_gw467/: the status page, the metrics, and the admin API that pushes, promotes and rolls back."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gateway.control_plane.control_api import MAX_PLAN_BYTES
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.fronts.demo_upstream import build_demo_app
from gateway.fronts.inprocess import InProcessResponse, call_asgi, http_scope
from gateway.fronts.middleware import EntitlementMiddleware
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED, change_now
from tests.test_middleware import call_scope

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
    for _ in range(20):  # the minimum a class needs before the page judges it
        as_client(app, "tco", "GET", "/2/links/a")
    status = json.loads(call(app, "GET", "/_gw467/status").body)
    assert status["status"] == "operational"
    assert status["classes"]["tco"]["status"] == "operational"
    assert status["deployment"]["active"] == "2023-02-baseline"


def test_status_page_says_outage_while_first_party_calls_get_467() -> None:
    app = gateway()
    change_now(app.deployment.push(compile_plan_set(load_plan_set(BILLING)), reason="replace_table"))
    for n in range(30):
        as_client(app, "tco", "GET", f"/2/links/{n}")
    status = json.loads(call(app, "GET", "/_gw467/status").body)
    assert status["status"] == "outage"
    assert status["classes"]["tco"]["status"] == "outage"
    assert status["alert"]["firing"] is True


def test_a_5xx_only_status_page_stays_operational_through_the_467_outage() -> None:
    app = gateway(sli="5xx")
    change_now(app.deployment.push(compile_plan_set(load_plan_set(BILLING)), reason="replace_table"))
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
    assert app.gateway.in_force.changes == []


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
    assert deployment["events"][-1]["reason"].startswith("canary: tco's first-party error rate")


@pytest.mark.parametrize("query", ["mode=sideways", "mode=canary&fraction=2", "mode=canary&unit=region"])
def test_bad_push_options_are_refused_with_400(query: str) -> None:
    app = gateway(admin_token=TOKEN)
    response = call(app, "POST", f"/_gw467/admin/plans?{query}", ADMIN, BILLING.read_bytes())
    assert response.status == 400
    assert app.gateway.table.version == "2023-02-baseline" and app.gateway.in_force.stage.candidate is None


def test_one_gateway_rolls_back_to_a_named_version_as_a_fleet_does() -> None:
    """`rollback?to=` used to need a fleet; both kinds now share the one set of transitions."""
    app = gateway(admin_token=TOKEN)
    before = every_decision(app)
    for plans in (BILLING, FIXED):
        assert call(app, "POST", "/_gw467/admin/plans", ADMIN, plans.read_bytes()).status == 200
    assert call(app, "POST", "/_gw467/admin/rollback?to=2023-03-06-billing", ADMIN).status == 200
    assert app.gateway.table.version == "2023-03-06-billing"
    document = json.loads(call(app, "POST", "/_gw467/admin/rollback?to=2023-02-baseline", ADMIN).body)
    assert (document["active"], document["history"]) == ("2023-02-baseline", [])
    assert every_decision(app) == before
    assert call(app, "POST", "/_gw467/admin/plans", ADMIN, FIXED.read_bytes()).status == 200
    refused = call(app, "POST", "/_gw467/admin/rollback?to=abc", ADMIN)
    assert refused.status == 409 and b"at least 8 characters" in refused.body


def test_rollback_with_nothing_to_roll_back_is_409() -> None:
    response = call(gateway(admin_token=TOKEN), "POST", "/_gw467/admin/rollback", ADMIN)
    assert response.status == 409


def test_unknown_gateway_paths_are_404_and_never_reach_the_upstream() -> None:
    app = gateway(admin_token=TOKEN)
    assert call(app, "GET", "/_gw467/secrets").status == 404
    assert call(app, "GET", "/_gw467/admin/../../2/tweets/1", ADMIN).status == 404


def test_an_oversized_plan_file_is_refused_with_413() -> None:
    app = gateway(admin_token=TOKEN)
    response = call(app, "POST", "/_gw467/admin/plans", ADMIN, b"#" * MAX_PLAN_BYTES + b"x")
    assert response.status == 413


# An honest status: no page on too little evidence


def test_one_gateway_made_404_to_a_first_party_client_cannot_page_or_say_outage() -> None:
    app = gateway()
    assert as_client(app, "tco", "GET", "/2/no/such/route") == 404
    status = json.loads(call(app, "GET", "/_gw467/status").body)
    assert status["min_requests"] == 20
    assert status["classes"]["tco"] == {
        "status": "not enough traffic",
        "first_party": True,
        "error_rate_5m": 1.0,
        "requests_5m": 1,
    }
    assert (status["status"], status["alert"]["firing"]) == ("not enough traffic", False)


def test_with_min_requests_one_the_same_404_pages() -> None:
    app = gateway(min_requests=1)
    as_client(app, "tco", "GET", "/2/no/such/route")
    status = json.loads(call(app, "GET", "/_gw467/status").body)
    assert (status["status"], status["alert"]["firing"], status["min_requests"]) == ("outage", True, 1)


# A private status: token or loopback


def status_from(app: EntitlementMiddleware, path: str, peer: str, headers: Any = ()) -> InProcessResponse:
    scope = http_scope("GET", path, list(headers))
    scope["client"] = (peer, 50000)
    return call_scope(app, scope)


@pytest.mark.parametrize("path", ["/_gw467/status", "/_gw467/metrics"])
def test_status_access_token_asks_for_the_bearer_token_on_status_and_metrics(path: str) -> None:
    app = gateway(status_access="token", status_token="status-secret", metrics=True)
    refused = status_from(app, path, "127.0.0.1")
    wrong = status_from(app, path, "127.0.0.1", [(b"authorization", b"Bearer status-secre")])
    admin = status_from(app, path, "127.0.0.1", ADMIN)
    right = status_from(app, path, "203.0.113.9", [(b"authorization", b"Bearer status-secret")])
    assert (refused.status, wrong.status, admin.status, right.status) == (401, 401, 401, 200)
    assert json.loads(refused.body) == {
        "errors": [{"message": "gateway status: missing or wrong bearer token"}]
    }
    assert refused.header("www-authenticate") == 'Bearer realm="gw467"'


def test_status_access_token_defaults_to_the_admin_token() -> None:
    app = gateway(status_access="token", admin_token=TOKEN)
    assert status_from(app, "/_gw467/status", "203.0.113.9", ADMIN).status == 200
    assert status_from(app, "/_gw467/status", "203.0.113.9").status == 401


@pytest.mark.parametrize(
    ("peer", "expected"),
    [("127.0.0.1", 200), ("127.8.9.10", 200), ("::1", 200), ("::ffff:127.0.0.1", 200), ("10.0.0.2", 403)],
)
def test_status_access_loopback_serves_only_local_peers(peer: str, expected: int) -> None:
    app = gateway(status_access="loopback", metrics=True)
    assert status_from(app, "/_gw467/status", peer).status == expected
    assert status_from(app, "/_gw467/metrics", peer).status == expected


def test_status_access_loopback_refuses_a_peer_without_an_address() -> None:
    app = gateway(status_access="loopback")
    scope = http_scope("GET", "/_gw467/status")
    scope["client"] = None
    response = call_scope(app, scope)
    assert response.status == 403
    assert json.loads(response.body) == {
        "errors": [{"message": "gateway status is served to loopback clients only"}]
    }


def test_a_private_status_leaves_the_admin_api_to_its_own_token() -> None:
    app = gateway(status_access="loopback", admin_token=TOKEN)
    assert status_from(app, "/_gw467/admin/deployment", "10.0.0.2", ADMIN).status == 200


def test_status_access_is_checked_once_at_construction() -> None:
    with pytest.raises(ValueError, match="status_access must be one of public, token, loopback, not 'lan'"):
        gateway(status_access="lan")
    with pytest.raises(ValueError, match='status_access="token" needs a status_token or an admin_token'):
        gateway(status_access="token")
