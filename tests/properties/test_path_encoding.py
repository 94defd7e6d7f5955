"""Path-encoding variants never reach the upstream on a path whose decision differs from the one taken.

For every endpoint template of the shipped catalogue, a request spelled with
encoded characters, doubled or trailing slashes, other letter case, dot segments,
encoded slashes, path parameters, fragments, NUL or backslashes is either refused
with 400 or forwarded on a path that, decided afresh, gives the same endpoint and rule.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import decide
from gateway.core.planfile import load_plan_set
from gateway.core.plans import Endpoint
from gateway.core.rules import RuleKind
from gateway.fronts.inprocess import call_asgi
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.verification import REFUSED_VARIANTS, encoding_variants, template_paths
from tests.conftest import BILLING, DEMO_KEYS, FIXED
from tests.test_middleware import RecordingApp

PLAN_SET = load_plan_set(FIXED)
TABLES = {"fixed": compile_plan_set(PLAN_SET), "billing": compile_plan_set(load_plan_set(BILLING))}


@pytest.mark.parametrize("endpoint", PLAN_SET.endpoints, ids=lambda e: e.id)
@given(data=st.data())
def test_encoding_variants_reach_the_upstream_only_on_a_path_decided_the_same_way(
    endpoint: Endpoint, data: st.DataObject
) -> None:
    """Forwarded variants: the upstream's path, decided again, yields the decision taken."""
    table = TABLES[data.draw(st.sampled_from(sorted(TABLES)))]
    client = data.draw(st.sampled_from(sorted(DEMO_KEYS)))
    authorization = [(b"authorization", f"Bearer {DEMO_KEYS[client]}".encode())]
    canonical = data.draw(template_paths(endpoint.path))
    variant, raw_path = data.draw(encoding_variants(canonical))
    upstream = RecordingApp()
    response = asyncio.run(
        call_asgi(EntitlementMiddleware(upstream, table), endpoint.method, raw_path, authorization)
    )
    taken = decide(table, endpoint.method, raw_path, [authorization[0][1]])
    assert response.status == (taken.status or 200)
    if not upstream.scopes:
        return
    (scope,) = upstream.scopes
    assert scope["raw_path"].decode() == scope["path"], variant
    again = decide(table, endpoint.method, scope["path"], [authorization[0][1]])
    assert again.status is None
    assert (again.endpoint, again.rule, again.path) == (taken.endpoint, taken.rule, scope["path"]), variant


@pytest.mark.parametrize("endpoint", PLAN_SET.endpoints, ids=lambda e: e.id)
@given(data=st.data())
def test_every_variant_is_decided_as_its_canonical_form_or_refused_with_400(
    endpoint: Endpoint, data: st.DataObject
) -> None:
    """A refused variant (encoded slash, dot segment, ...) gets 400 from the path step; every
    other variant gets exactly the canonical request's status, rule and endpoint."""
    table = TABLES["billing"]
    authorization = [f"Bearer {DEMO_KEYS[data.draw(st.sampled_from(sorted(DEMO_KEYS)))]}".encode()]
    canonical = data.draw(template_paths(endpoint.path))
    variant, raw_path = data.draw(encoding_variants(canonical))
    expected = decide(table, endpoint.method, canonical, authorization)
    got = decide(table, endpoint.method, raw_path, authorization)
    if variant in REFUSED_VARIANTS:
        assert got.status == 400 and got.rule.kind is RuleKind.PATH, (variant, raw_path, got.rule)
        return
    assert (got.status, got.rule, got.endpoint) == (expected.status, expected.rule, expected.endpoint), (
        variant
    )
