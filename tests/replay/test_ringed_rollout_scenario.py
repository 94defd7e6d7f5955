"""The shipped ringed-rollout scenario: the hour of error 467 on a fleet, halted on the first ring."""

from __future__ import annotations

import asyncio

import pytest

from gateway.replay.compare import comparison_row
from gateway.replay.engine import ReplayEngine, ReplayRecord
from gateway.replay.scenario import Scenario, load_scenario
from gateway.replay.summary import summarize
from tests.conftest import ROOT

SCENARIOS = ROOT / "scenarios"


def scenario(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.toml")


def test_the_ringed_scenario_is_the_hour_of_error_467_on_a_fleet() -> None:
    ringed, history = scenario("2023-03-06-ringed-rollout"), scenario("2023-03-06-error-467")
    same = ("start", "timezone", "minutes", "seed", "plans", "services", "load_shape", "operators")
    assert {key: getattr(ringed, key) for key in same} == {key: getattr(history, key) for key in same}
    assert ringed.events == history.events and ringed.traffic == history.traffic
    assert history.fleet is None and ringed.fleet is not None
    assert [ring.name for ring in ringed.fleet.rings] == ["internal", "1%", "10%", "100%"]


@pytest.fixture(scope="module")
def ringed() -> ReplayRecord:
    return asyncio.run(ReplayEngine(scenario("2023-03-06-ringed-rollout")).run())


@pytest.mark.slow
def test_the_billing_push_is_halted_on_the_internal_ring_in_its_first_minute(ringed: ReplayRecord) -> None:
    push = ringed.scenario.events[0].minute
    assert [(ring.ring, ring.minute, ring.outcome) for ring in ringed.rings] == [("internal", push, "halted")]
    assert ringed.detected_minute == push and ringed.detected_by == "ring halt (internal)"
    assert ringed.instances_ran["2023-03-06-billing"] == 1
    assert all(versions.get("2023-03-06-billing", 0) <= 1 for versions in ringed.instances_by_minute)


@pytest.mark.slow
def test_the_rings_keep_first_party_failures_to_the_staff_requests_of_about_a_minute(
    ringed: ReplayRecord,
) -> None:
    summary = summarize(ringed)
    assert summary.requests >= 300_000
    assert 0 < summary.first_party_failed < 100 and summary.impact_minutes == 0
    row = comparison_row(ringed)
    assert (row.layer, row.instances, row.instances_ran_pushed_table, row.minutes_to_detect) == (
        "fleet: rings",
        101,
        1,
        0,
    )
