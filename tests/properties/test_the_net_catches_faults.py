"""Proof that the safety net catches things: each invariant is run against a fault it exists for.

A property suite that never fails is not a safety net. Here the 2023 billing file
and three injected faults (a normalizer that forgets one encoding, a compiled
table that drops a grant, an exemption read from a header) must each be caught,
and the shrunk counterexample is printed and checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, settings
from starlette.types import Receive, Scope, Send

import gateway.core.compiler
import gateway.core.paths
from gateway.core.decision import DecisionTable
from gateway.core.planfile import load_plan_set
from gateway.core.plans import EndpointLookup, Plan
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.hot_path import running_compiled
from gateway.verification import (
    KeyedPlanSet,
    RecordingUpstream,
    compiled_matches_reference,
    encodings_decide_as_canonical,
    exemption_ignores_headers,
    no_first_party_regression,
)
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED

# Enough examples, derandomized, so each fault is found in every profile, every run.
HUNT = settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def caught(check: Callable[[], None]) -> str:
    """Run a property that must fail; return (and print) the shrunk counterexample's message."""
    with pytest.raises(AssertionError) as failure:
        HUNT(check)()
    message = str(failure.value).splitlines()[0]
    print(f"\ncounterexample: {message}")
    return message


def test_the_billing_file_is_caught_by_the_first_party_regression_property(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    with pytest.raises(AssertionError) as failure:
        no_first_party_regression(baseline_table, billing_table)()  # exhaustive: no search to run
    message = str(failure.value).splitlines()[0]
    assert re.match(
        r"first-party client '\w+' \(class \w+\) loses '[\w.]+': exempt:first_party -> plan:free/deny",
        message,
    )


@pytest.mark.skipif(
    "gateway.core.paths" in running_compiled(),
    reason="the fault is patched into the Python source of gateway.core.paths; compiled code calls its own",
)
def test_a_normalizer_that_forgets_encoded_slashes_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real_decode = gateway.core.paths._decode

    def forgets_encoded_slashes(part: str) -> str:
        # The fault: %2F is decoded into a slash instead of being refused.
        return real_decode(part.replace("%2F", "\\x00SLASH").replace("%2f", "\\x00SLASH")).replace(
            "\\x00SLASH", "/"
        )

    monkeypatch.setattr(gateway.core.paths, "_decode", forgets_encoded_slashes)
    message = caught(encodings_decide_as_canonical(KeyedPlanSet(load_plan_set(FIXED), DEMO_KEYS)))
    assert "encoded-slash" in message
    assert "not refused with 400" in message


def test_a_compiled_table_that_drops_a_grant_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled_patterns = EndpointLookup.covering_patterns

    def skips_first_grant(lookup: EndpointLookup, plan: Plan) -> tuple[str | None, ...]:
        # The fault: compilation skips each plan's first grant.
        return compiled_patterns(lookup, replace(plan, grants=plan.grants[1:]))

    monkeypatch.setattr(EndpointLookup, "covering_patterns", skips_first_grant)
    message = caught(compiled_matches_reference(KeyedPlanSet(load_plan_set(FIXED), DEMO_KEYS)))
    assert re.search(r"compiled says 467 plan:\w+/deny .*reference says None plan:\w+/grant:", message)


class TrustsXInternal(EntitlementMiddleware):
    """The fault: requests marked internal by a header skip plan checks."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        if scope["type"] == "http" and headers.get(b"x-internal") in (b"true", b"1"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def test_an_exemption_read_from_a_header_is_caught() -> None:
    def gateway_trusting_a_header(table: DecisionTable) -> TrustsXInternal:
        return TrustsXInternal(RecordingUpstream(), table, clock=lambda: 0.0)

    keyed = KeyedPlanSet(load_plan_set(FIXED), DEMO_KEYS)
    message = caught(exemption_ignores_headers(keyed, gateway_trusting_a_header))
    # Shrinking picks the simplest client: an exempt one now skips its exemption, or a
    # non-exempt one gets through; either way the header changed the decision.
    assert "(b'x-internal', b'true')" in message
    assert re.search(r": 200 None, without them (200 exempt:first_party|467 plan:\w+/deny)", message)


def test_the_same_properties_pass_on_the_real_code() -> None:
    """The control: without the injected faults, with the same examples, nothing is caught."""
    keyed = KeyedPlanSet(load_plan_set(FIXED), DEMO_KEYS)
    HUNT(encodings_decide_as_canonical(keyed))()
    HUNT(compiled_matches_reference(keyed))()
    HUNT(exemption_ignores_headers(keyed))()
    assert load_plan_set(BASELINE).version == "2023-02-baseline"
    assert load_plan_set(BILLING).version == "2023-03-06-billing"
