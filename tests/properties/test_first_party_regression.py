"""No client first-party in the baseline loses, in a candidate plan file, any access it had in the baseline.

The property passes for the fixed billing file and must fail for the billing file
as shipped on 2023-03-06: a safety net that never catches anything is not one. It
is exhaustive (every client x endpoint, by `gateway.safety.access`), so it also
catches a loss of one endpoint among hundreds, every run.
"""

from __future__ import annotations

import dataclasses

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable
from gateway.core.planfile import sha256_hex
from gateway.core.plans import Client, Endpoint, Grant, Plan, PlanSet, Policy
from gateway.verification import first_party_losses, no_first_party_regression


def test_fixed_billing_plan_keeps_every_first_party_endpoint(
    baseline_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    no_first_party_regression(baseline_table, fixed_table)()


def test_the_property_catches_the_2023_regression_and_names_a_first_party_client(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    with pytest.raises(AssertionError) as caught:
        no_first_party_regression(baseline_table, billing_table)()
    message = str(caught.value).splitlines()[0]
    assert message.startswith("first-party client '")
    assert "exempt:first_party -> plan:free/deny (245 first-party grants lost in all)" in message


def test_exhaustive_check_lists_every_first_party_loss_of_the_billing_file(
    baseline_table: DecisionTable, billing_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    """The fixed file has no loss; every loss in the billing file is first-party and covers the
    surfaces the incident hit."""
    assert first_party_losses(baseline_table, fixed_table) == ()
    losses = first_party_losses(baseline_table, billing_table)
    assert all(loss.first_party for loss in losses)
    assert {"links", "media", "tweetdeck", "login", "timeline"} <= {loss.surface for loss in losses}
    assert {loss.client_id for loss in losses} == {
        "web",
        "ios",
        "android",
        "tweetdeck",
        "tco",
        "media",
        "login",
    }


def large_catalogue() -> PlanSet:
    """400 endpoints, five first-party clients granted everything by their plan, one third-party."""
    endpoints = tuple(
        Endpoint(f"s{i % 8}.e{i}", "GET", f"/v1/s{i % 8}/e{i}/{{id}}", f"s{i % 8}") for i in range(400)
    )
    clients = [Client(f"app{n}", f"class{n}", True, (sha256_hex(f"key-{n}"),), plan="own") for n in range(5)]
    clients.append(Client("bot", "third_party", False, (sha256_hex("key-bot"),), plan="own"))
    return PlanSet("large", endpoints, (Plan("own", 0, (Grant(("*",)),)),), tuple(clients), Policy())


def test_five_first_party_clients_each_losing_one_endpoint_of_400_are_caught_every_time() -> None:
    """The case that a sampling property let through in 4 runs of 5."""
    before = large_catalogue()
    lost = {f"app{n}": before.endpoints[n * 77].id for n in range(5)}
    plans = [
        Plan(f"without-{e}", 0, (Grant(tuple(x.id for x in before.endpoints if x.id != e)),))
        for e in lost.values()
    ]
    clients = tuple(
        dataclasses.replace(c, plan=f"without-{lost[c.id]}") if c.id in lost else c for c in before.clients
    )
    after = dataclasses.replace(before, version="after", plans=(*before.plans, *plans), clients=clients)
    old, new = compile_plan_set(before), compile_plan_set(after)
    assert {(loss.client_id, loss.endpoint_id) for loss in first_party_losses(old, new)} == set(lost.items())
    with pytest.raises(AssertionError, match=r"\(5 first-party grants lost in all\)"):
        no_first_party_regression(old, new)()
