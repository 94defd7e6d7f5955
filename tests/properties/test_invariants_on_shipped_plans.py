"""Every invariant of gateway.verification holds for the shipped plan files (billing breaks one)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.core.plans import Grant
from gateway.verification import (
    KeyedPlanSet,
    compiled_matches_reference,
    decisions_ignore_headers_and_other_requests,
    encodings_decide_as_canonical,
    exemption_ignores_headers,
    rekeyed,
    tier_violations,
    tiers_are_monotone,
)
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED

SHIPPED = [BASELINE, BILLING, FIXED]


def keyed(path: Path) -> KeyedPlanSet:
    return KeyedPlanSet(load_plan_set(path), DEMO_KEYS)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_a_higher_tier_never_reaches_less_than_a_lower_tier(path: Path) -> None:
    """In every shipped file, each plan grants everything the plans below it grant."""
    tiers_are_monotone(compile_plan_set(load_plan_set(path)))()


def test_a_plan_that_grants_less_than_the_tier_below_is_reported() -> None:
    plan_set = load_plan_set(FIXED)
    basic = plan_set.plan("basic")
    narrowed = dataclasses.replace(basic, grants=(Grant(("tweets.*",)),))
    plans = tuple(narrowed if p.name == "basic" else p for p in plan_set.plans)
    violations = tier_violations(compile_plan_set(dataclasses.replace(plan_set, plans=plans)))
    assert {(v.lower_plan, v.higher_plan) for v in violations} == {("free", "basic")}
    assert {v.endpoint_id for v in violations} == {
        "login.verify",
        "login.oauth_request_token",
        "login.oauth_access_token",
    }
    with pytest.raises(AssertionError, match="plan 'basic' \\(higher tier\\) does not grant"):
        tiers_are_monotone(compile_plan_set(dataclasses.replace(plan_set, plans=plans)))()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_compiled_tables_of_the_shipped_files_match_the_reference(path: Path) -> None:
    """Every shipped file: every client on every endpoint, in every spelling, decided alike both ways."""
    compiled_matches_reference(keyed(path))()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_files_decide_every_encoding_as_its_canonical_form_or_refuse_it(path: Path) -> None:
    """Through the middleware: variants get the canonical answer or 400; the upstream sees that path."""
    encodings_decide_as_canonical(keyed(path))()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_no_header_grants_or_removes_an_exemption(path: Path) -> None:
    """Spoofed internal, first-party, plan and forwarding headers change no decision."""
    exemption_ignores_headers(keyed(path))()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_decisions_ignore_header_order_case_and_other_clients_requests(path: Path) -> None:
    """The same request gets the same answer alone, or shuffled and after other clients' traffic."""
    decisions_ignore_headers_and_other_requests(keyed(path))()


def test_rekeyed_plan_sets_decide_exactly_as_the_originals() -> None:
    """Files that hold only key digests can be tested: new test keys change no entitlement."""
    original = compile_plan_set(load_plan_set(BILLING))
    again = compile_plan_set(rekeyed(load_plan_set(BILLING)).plan_set)
    for before, after in zip(original.clients, again.clients, strict=True):
        assert before.verdicts == after.verdicts
        assert before.key_digests != after.key_digests
