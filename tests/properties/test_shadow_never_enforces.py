"""A shadowed candidate never changes a response: the gateway answers as if it were not there."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.fronts.demo_upstream import build_demo_app
from gateway.fronts.inprocess import call_asgi
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.request_path.stage import SHADOW
from gateway.verification import KeyedPlanSet, requests
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, change_now

BASELINE_SET = load_plan_set(BASELINE)
KEYED = KeyedPlanSet(BASELINE_SET, DEMO_KEYS)
BASELINE_TABLE = compile_plan_set(BASELINE_SET)
BILLING_TABLE = compile_plan_set(load_plan_set(BILLING))


def gateway(shadowed: bool) -> EntitlementMiddleware:
    app = EntitlementMiddleware(build_demo_app(BASELINE_SET), BASELINE_TABLE, clock=lambda: 0.0)
    if shadowed:
        change_now(app.deployment.push(BILLING_TABLE, SHADOW))
    return app


@given(st.lists(requests(KEYED), min_size=1, max_size=12))
def test_every_response_is_byte_identical_with_and_without_the_shadow(
    batch: list[tuple[str, str, list[bytes]]],
) -> None:
    """For any sequence of requests, the gateway with the billing plan in shadow answers each one
    exactly (status, headers, body) as the gateway without a shadow does."""
    plain, shadowed = gateway(False), gateway(True)
    for method, path, authorization in batch:
        headers = [(b"authorization", value) for value in authorization]
        expected = asyncio.run(call_asgi(plain, method, path, headers))
        got = asyncio.run(call_asgi(shadowed, method, path, headers))
        assert got == expected, (method, path)
    assert shadowed.gateway.in_force.stage.shadow is not None
    assert shadowed.gateway.in_force.stage.shadow.observed == len(batch)
