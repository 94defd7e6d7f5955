"""The burn-rate alert and the status page, watched during the real 2023 and fixed scenarios."""

from __future__ import annotations

import asyncio
import dataclasses
import json

from gateway.replay.engine import ReplayEngine
from gateway.replay.scenario import load_scenario
from gateway.serving.inprocess import call_asgi
from tests.conftest import ROOT

MINUTES = 25  # the push is at minute 15 (09:00 PST); ten minutes of outage are enough to judge


def engine_after(name: str, sli: str = "first-party-denials") -> ReplayEngine:
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


def test_the_alert_fires_during_the_2023_replay() -> None:
    engine = engine_after("2023-03-06-error-467")
    state = engine.gateway.alert_state()
    assert state.firing


def test_the_status_page_reports_an_outage_for_first_party_classes_during_the_2023_replay() -> None:
    status = status_page(engine_after("2023-03-06-error-467"))
    assert status["status"] == "outage"
    classes = status["classes"]
    assert isinstance(classes, dict)
    for name in ("web", "ios", "android", "tweetdeck", "tco", "media", "login"):
        assert classes[name]["status"] == "outage", name


def test_neither_alert_nor_outage_in_the_fixed_replay() -> None:
    engine = engine_after("2023-03-06-fixed")
    assert not engine.gateway.alert_state().firing
    assert status_page(engine)["status"] == "operational"


def test_under_a_5xx_sli_the_2023_status_page_says_operational_as_twitters_did() -> None:
    engine = engine_after("2023-03-06-error-467", sli="5xx")
    assert status_page(engine)["status"] == "operational"
    assert not engine.gateway.alert_state().firing
