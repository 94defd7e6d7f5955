"""The shipped ringed-rollout scenario: the hour of error 467 on a fleet, halted on the first ring.

`make test` judges the scenario's first 20 minutes: the push at minute 15, its halt at that
minute's end, the rollback's arrival and quiet minutes after it. What follows, to minute 90, is
the baseline on 101 gateways and the scenario's rollback at minute 75 finding nothing to undo
(test_rings.py replays a halt followed by such a rollback); `make test-deep` replays the whole
hour too, 40 s, and checks the same of it, with its 300,000 requests.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from gateway.replay.compare import comparison_row
from gateway.replay.engine import ReplayEngine, ReplayRecord
from gateway.replay.scenario import Scenario, load_scenario
from gateway.replay.summary import summarize
from tests.conftest import ROOT

SCENARIOS = ROOT / "scenarios"
FIRST_MINUTES = 20


def scenario(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.toml")


def replay_ringed(minutes: int | None) -> ReplayRecord:
    """The ringed scenario, cut to its first `minutes` (its events before then) unless None."""
    ringed = scenario("2023-03-06-ringed-rollout")
    if minutes is not None:
        events = tuple(event for event in ringed.events if event.minute < minutes)
        ringed = dataclasses.replace(ringed, minutes=minutes, events=events)
    return asyncio.run(ReplayEngine(ringed).run())


def test_the_ringed_scenario_is_the_hour_of_error_467_on_a_fleet() -> None:
    ringed, history = scenario("2023-03-06-ringed-rollout"), scenario("2023-03-06-error-467")
    same = ("start", "timezone", "minutes", "seed", "plans", "services", "load_shape", "operators")
    assert {key: getattr(ringed, key) for key in same} == {key: getattr(history, key) for key in same}
    assert ringed.events == history.events and ringed.traffic == history.traffic
    assert history.fleet is None and ringed.fleet is not None
    assert [ring.name for ring in ringed.fleet.rings] == ["internal", "1%", "10%", "100%"]
    assert ringed.events[0].minute < FIRST_MINUTES - 3  # the cut keeps the push and minutes after its halt


@pytest.fixture(scope="module")
def ringed_hour() -> ReplayRecord:
    return replay_ringed(None)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(FIRST_MINUTES, id="first-20-minutes"),
        pytest.param(None, id="full-hour", marks=pytest.mark.deep),
    ],
)
def ringed(request: pytest.FixtureRequest) -> ReplayRecord:
    if request.param is None:
        record: ReplayRecord = request.getfixturevalue("ringed_hour")
        return record
    return replay_ringed(request.param)


@pytest.mark.slow
def test_the_billing_push_is_halted_on_the_internal_ring_in_its_first_minute(ringed: ReplayRecord) -> None:
    push = ringed.scenario.events[0].minute
    assert [(ring.ring, ring.minute, ring.outcome) for ring in ringed.rings] == [("internal", push, "halted")]
    assert ringed.detected_minute == push and ringed.detected_by == "ring halt (internal)"
    assert ringed.instances_ran["2023-03-06-billing"] == 1
    assert all(versions.get("2023-03-06-billing", 0) <= 1 for versions in ringed.instances_by_minute)
    assert ringed.instances_by_minute[-1] == {"2023-02-baseline": 101}


@pytest.mark.slow
def test_the_rings_keep_first_party_failures_to_the_staff_requests_of_about_a_minute(
    ringed: ReplayRecord,
) -> None:
    summary = summarize(ringed)
    assert 0 < summary.first_party_failed < 100 and summary.impact_minutes == 0
    row = comparison_row(ringed)
    assert (row.layer, row.instances, row.instances_ran_pushed_table, row.minutes_to_detect) == (
        "fleet: rings",
        101,
        1,
        0,
    )


@pytest.mark.deep
def test_the_ringed_hour_sends_over_300000_requests_through_the_fleet(ringed_hour: ReplayRecord) -> None:
    assert ringed_hour.scenario.minutes == 90
    assert summarize(ringed_hour).requests >= 300_000
