"""The burn-rate alert and the status page, watched during the real 2023 and fixed scenarios.

The full replays are the session's shared ones (`shipped_replay`); the pages are judged at
the end of minute 24, ten minutes after the push at minute 15 (09:00 PST), and the fixed
hour at every minute. Only the 5xx-SLI replay is run here, and only for those 25 minutes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable

import pytest

from gateway.replay.engine import ReplayEngine
from gateway.replay.scenario import load_scenario
from gateway.serving.inprocess import call_asgi
from tests.conftest import ROOT
from tests.replay.conftest import ShippedReplay, replays

MINUTES = 25  # the push is at minute 15 (09:00 PST); ten minutes of outage are enough to judge
JUDGED = MINUTES - 1  # the last minute of those 25, counted from 0
FIRST_PARTY = ("web", "ios", "android", "tweetdeck", "tco", "media", "login")


@pytest.fixture
def outage(shipped_replay: Callable[[str], ShippedReplay]) -> ShippedReplay:
    return shipped_replay("2023-03-06-error-467")


def engine_after(name: str, sli: str) -> ReplayEngine:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    scenario = dataclasses.replace(
        scenario, minutes=MINUTES, events=tuple(e for e in scenario.events if e.minute < MINUTES)
    )
    engine = ReplayEngine(scenario, sli=sli)
    asyncio.run(engine.run())
    return engine


def status_page(engine: ReplayEngine) -> dict[str, object]:
    response = asyncio.run(call_asgi(engine.front, "GET", "/_gw467/status"))
    document: dict[str, object] = json.loads(response.body)
    return document


@replays("2023-03-06-error-467")
def test_the_alert_fires_during_the_2023_replay(outage: ShippedReplay) -> None:
    assert outage.record.status_by_minute[JUDGED].alert_firing
    assert outage.status_pages[JUDGED]["alert"]["firing"]  # type: ignore[index]


@replays("2023-03-06-error-467")
def test_the_status_page_reports_an_outage_for_first_party_classes_during_the_2023_replay(
    outage: ShippedReplay,
) -> None:
    status = outage.status_pages[JUDGED]
    assert status["status"] == "outage"
    classes = status["classes"]
    assert isinstance(classes, dict)
    for name in FIRST_PARTY:
        assert classes[name]["status"] == "outage", name


@replays("2023-03-06-error-467")
def test_the_record_keeps_what_the_status_page_said_at_the_end_of_every_minute(outage: ShippedReplay) -> None:
    assert len(outage.status_pages) == len(outage.record.status_by_minute) == outage.record.scenario.minutes
    for minute, page, kept in outage.by_minute():
        classes = page["classes"]
        assert isinstance(classes, dict)
        assert (page["status"], {name: c["status"] for name, c in classes.items()}) == (
            kept.status,
            kept.classes,
        ), minute


@replays("2023-03-06-fixed")
def test_neither_alert_nor_outage_in_the_fixed_replay(shipped_replay: Callable[[str], ShippedReplay]) -> None:
    fixed = shipped_replay("2023-03-06-fixed")
    for minute, page, kept in fixed.by_minute():
        assert not kept.alert_firing, minute
        assert page["status"] == "operational", minute


def test_under_a_5xx_sli_the_2023_status_page_says_operational_as_twitters_did() -> None:
    engine = engine_after("2023-03-06-error-467", sli="5xx")
    assert status_page(engine)["status"] == "operational"
    assert not engine.gateway.alert_state().firing
