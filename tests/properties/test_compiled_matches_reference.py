"""The compiled decision table agrees with the plainly-written reference evaluator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import decide
from gateway.core.planfile import load_plan_set, parse_plan_set
from gateway.verification import KeyedPlanSet, keyed_plan_sets, requests
from gateway.verification.planfiles import dump_plan_set
from gateway.verification.reference import reference_decide
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED


@given(keyed_plan_sets(), st.data())
def test_compiled_table_decides_every_request_as_the_reference_does(
    keyed: KeyedPlanSet, data: st.DataObject
) -> None:
    """For every generated plan set and request, decide() and reference_decide() give the same
    status, rule, client, endpoint and forwarded path."""
    table = compile_plan_set(keyed.plan_set)
    for _ in range(8):
        method, path, authorization = data.draw(requests(keyed))
        fast = decide(table, method, path, authorization)
        slow = reference_decide(keyed.plan_set, method, path, authorization)
        assert fast.status == slow.status, (method, path, fast, slow)
        assert str(fast.rule) == slow.rule, (method, path, fast, slow)
        assert (fast.client.id if fast.client else None) == slow.client_id
        assert (fast.endpoint.id if fast.endpoint else None) == slow.endpoint_id
        assert fast.path == slow.path


@given(keyed_plan_sets())
def test_generated_plan_sets_survive_a_round_trip_through_the_file_format(keyed: KeyedPlanSet) -> None:
    """Every generated plan set is a valid plan file: written as TOML and read back, it is unchanged."""
    text = dump_plan_set(keyed.plan_set)
    loaded = parse_plan_set(text, "generated.toml")
    assert dataclasses.replace(loaded, source=keyed.plan_set.source) == keyed.plan_set


@pytest.mark.parametrize("plans", [BASELINE, BILLING, FIXED], ids=lambda p: p.stem)
def test_compiled_and_reference_agree_on_every_client_and_endpoint_of_the_shipped_plans(plans: Path) -> None:
    """Exhaustively, on each shipped file: every demo client on every endpoint gets the same decision."""
    plan_set = load_plan_set(plans)
    table = compile_plan_set(plan_set)
    for client_id, key in DEMO_KEYS.items():
        authorization = [f"Bearer {key}".encode()]
        for endpoint in plan_set.endpoints:
            path = endpoint.path.replace("{", "v").replace("}", "")
            fast = decide(table, endpoint.method, path, authorization)
            slow = reference_decide(plan_set, endpoint.method, path, authorization)
            assert fast.endpoint == endpoint
            assert (fast.status, str(fast.rule), fast.path) == (slow.status, slow.rule, slow.path)
            assert fast.client is not None and fast.client.id == client_id == slow.client_id


@given(keyed_plan_sets(), st.data())
def test_compiled_table_decides_every_cors_preflight_and_head_as_the_reference_does(
    keyed: KeyedPlanSet, data: st.DataObject
) -> None:
    """For every generated plan set, OPTIONS preflights (asking about any method) and HEAD requests
    get the same decision from decide() and reference_decide()."""
    table = compile_plan_set(keyed.plan_set)
    for _ in range(6):
        _, path, authorization = data.draw(requests(keyed))
        asked = data.draw(st.sampled_from(("GET", "POST", "PUT", "DELETE", "PATCH")))
        fast = decide(table, "OPTIONS", path, authorization, preflight=asked)
        slow = reference_decide(keyed.plan_set, "OPTIONS", path, authorization, preflight=asked)
        assert (fast.status, fast.rule.text, fast.path) == (slow.status, slow.rule, slow.path), (path, asked)
        assert (fast.endpoint.id if fast.endpoint else None) == slow.endpoint_id
        head = decide(table, "HEAD", path, authorization)
        slow_head = reference_decide(keyed.plan_set, "HEAD", path, authorization)
        assert (head.status, head.rule.text, head.path) == (
            slow_head.status,
            slow_head.rule,
            slow_head.path,
        ), path
        assert (head.client.id if head.client else None) == slow_head.client_id
