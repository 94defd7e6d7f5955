"""No first-party client loses, in a candidate plan file, an endpoint it reached in the baseline.

The property passes for the fixed billing file and must fail for the billing file
as shipped on 2023-03-06: a safety net that never catches anything is not one.
"""

from __future__ import annotations

import re

import pytest

from gateway.core.decision import DecisionTable
from gateway.testing import first_party_regressions, no_first_party_regression


def test_fixed_billing_plan_keeps_every_first_party_endpoint(
    baseline_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    """The fixed file passes the property under Hypothesis."""
    no_first_party_regression(baseline_table, fixed_table)()


def test_hypothesis_finds_the_2023_regression_and_names_a_first_party_client(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    """Hypothesis catches the shipped billing file; its shrunk counterexample is a first-party client."""
    with pytest.raises(AssertionError) as caught:
        no_first_party_regression(baseline_table, billing_table)()
    message = str(caught.value).splitlines()[0]
    named = re.search(r"first-party client '([^']+)'", message)
    assert named is not None, message
    assert billing_table.clients_by_id[named.group(1)].first_party
    assert "plan:free/deny" in message


def test_exhaustive_check_lists_every_first_party_loss_of_the_billing_file(
    baseline_table: DecisionTable, billing_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    """The exhaustive form agrees: the fixed file has no loss; every loss in the billing file is
    first-party and covers the surfaces the incident hit."""
    assert first_party_regressions(baseline_table, fixed_table) == []
    losses = first_party_regressions(baseline_table, billing_table)
    assert losses
    assert all(billing_table.clients_by_id[loss.client_id].first_party for loss in losses)
    lost_surfaces = {billing_table.plan_set.endpoint(loss.endpoint_id).surface for loss in losses}
    assert {"links", "media", "tweetdeck", "login", "timeline"} <= lost_surfaces
    assert {loss.client_id for loss in losses} == {
        "web",
        "ios",
        "android",
        "tweetdeck",
        "tco",
        "media",
        "login",
    }
