"""The public status says what a status page needs (class states, the alert, the versions in
force, whether a shared store is up) and nothing more: the shadow sample (other clients' request
paths, with their ids), the reasons given for changes, the store's address and its errors are in
the admin deployment document only."""

from __future__ import annotations

import json

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.request_path.stage import SHADOW
from tests.conftest import BILLING, change_now
from tests.test_control import ADMIN, as_client, call, gateway


def test_the_public_status_holds_no_shadow_sample_reason_or_store_detail() -> None:
    app = gateway(admin_token="admin-token-for-tests")
    change_now(
        app.deployment.push(
            compile_plan_set(load_plan_set(BILLING)), SHADOW, reason="billing for 2023-03-06 by alice"
        )
    )
    for _ in range(3):
        as_client(app, "tco", "GET", "/2/links/ab12secretlinkid")
    public = call(app, "GET", "/_gw467/status")
    page = call(app, "GET", "/_gw467/status", [(b"accept", b"text/html")])
    admin = json.loads(call(app, "GET", "/_gw467/admin/deployment", ADMIN).body)
    status = json.loads(public.body)
    assert status["deployment"] == {
        "active": "2023-02-baseline",
        "candidate": "2023-03-06-billing",
        "mode": "shadow",
    }
    assert set(status["store"]) == {"shared", "available", "failure_policy", "unavailable_since"}
    for text in (public.body, page.body):
        assert b"ab12secretlinkid" not in text
        assert b"alice" not in text
    # All of it is still there for the operator.
    assert "ab12secretlinkid" in json.dumps(admin["shadow"])
    assert admin["events"][-1]["reason"] == "billing for 2023-03-06 by alice"
    assert admin["store"]["backend"] == "memory" and "last_error" in admin["store"]
