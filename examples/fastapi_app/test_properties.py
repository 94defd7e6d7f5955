"""Property tests of the Shortlinks plan files with gateway.verification, as a team would in its own suite."""

from __future__ import annotations

from pathlib import Path

from gateway import compile_plan_set, load_plan_set
from gateway.verification import (
    compiled_matches_reference,
    no_first_party_regression,
    rekeyed,
    tiers_are_monotone,
)

PLANS = Path(__file__).parent / "plans"
RELEASED = compile_plan_set(load_plan_set(PLANS / "shortlinks-released.toml"))
CURRENT_SET = load_plan_set(PLANS / "shortlinks.toml")
CURRENT = compile_plan_set(CURRENT_SET)

test_no_first_party_client_loses_an_endpoint_since_the_release = no_first_party_regression(RELEASED, CURRENT)
test_a_higher_plan_never_reaches_less = tiers_are_monotone(CURRENT)
test_the_compiled_table_decides_as_the_reference_evaluator = compiled_matches_reference(rekeyed(CURRENT_SET))
