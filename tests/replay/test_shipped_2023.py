"""The 2023-03-06 scenario replayed in full, as the README tells it: the requests, the 467s, the
surfaces hit, and the burn-rate alert and status page watched during it.

Every test reads the session's one replay of the hour (`shipped` in conftest.py). The alert and
the status page are judged at the end of minute 24, ten minutes after the push at minute 15
(09:00 PST). Only the 5xx-SLI replay is run here, and only for those 25 minutes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest

from gateway.fronts.inprocess import call_asgi
from gateway.replay.engine import ReplayEngine, ReplayRecord
from gateway.replay.scenario import load_scenario
from gateway.replay.summary import minute_rows, summarize
from gateway.replay.terminal import render
from tests.conftest import ROOT
from tests.replay.conftest import ShippedReplay
from tests.test_narrow_terminals import assert_fits, rendered

pytestmark = pytest.mark.slow

SCENARIO = "2023-03-06-error-467"
MINUTES = 25  # the push is at minute 15 (09:00 PST); ten minutes of outage are enough to judge
JUDGED = MINUTES - 1  # the last minute of those 25, counted from 0
FIRST_PARTY = ("web", "ios", "android", "tweetdeck", "tco", "media", "login")


@pytest.fixture
def outage(shipped: ShippedReplay) -> ReplayRecord:
    return shipped.record


def test_2023_replay_sends_over_300000_requests_through_the_gateway(outage: ReplayRecord) -> None:
    assert outage.requests >= 300_000


def test_2023_first_party_467s_start_at_the_push_and_stop_at_the_rollback(outage: ReplayRecord) -> None:
    with_467 = [row.minute for row in minute_rows(outage) if row.first_party.get("467")]
    assert with_467 == list(range(15, 75))


def test_2023_every_first_party_class_and_incident_surface_is_hit(outage: ReplayRecord) -> None:
    summary = summarize(outage)
    hit_classes = {c for (m, c, s, status) in outage.counts if status == 467 and outage.classes[c]}
    assert hit_classes == {name for name, first in outage.classes.items() if first}
    for surface in ("links", "media", "tweetdeck", "login", "timeline"):
        assert summary.first_party_failed_by_surface[surface] > 0
    assert summary.impact_minutes == 60
    assert summary.push_to_rollback_minutes == 60


def test_the_alert_fires_during_the_2023_replay(shipped: ShippedReplay) -> None:
    assert shipped.record.status_by_minute[JUDGED].alert_firing
    assert shipped.status_pages[JUDGED]["alert"]["firing"]  # type: ignore[index]


def test_the_status_page_reports_an_outage_for_first_party_classes_during_the_2023_replay(
    shipped: ShippedReplay,
) -> None:
    status = shipped.status_pages[JUDGED]
    assert status["status"] == "outage"
    classes = status["classes"]
    assert isinstance(classes, dict)
    for name in FIRST_PARTY:
        assert classes[name]["status"] == "outage", name


def test_the_record_keeps_what_the_status_page_said_at_the_end_of_every_minute(
    shipped: ShippedReplay,
) -> None:
    record = shipped.record
    assert len(shipped.status_pages) == len(record.status_by_minute) == record.scenario.minutes
    for minute, page, kept in shipped.by_minute():
        classes = page["classes"]
        assert isinstance(classes, dict)
        assert (page["status"], {name: c["status"] for name, c in classes.items()}) == (
            kept.status,
            kept.classes,
        ), minute


def test_under_a_5xx_sli_the_2023_status_page_says_operational_as_twitters_did() -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{SCENARIO}.toml")
    scenario = dataclasses.replace(
        scenario, minutes=MINUTES, events=tuple(e for e in scenario.events if e.minute < MINUTES)
    )
    engine = ReplayEngine(scenario, sli="5xx")
    asyncio.run(engine.run())
    response = asyncio.run(call_asgi(engine.front, "GET", "/_gw467/status"))
    assert json.loads(response.body)["status"] == "operational"
    assert not engine.gateway.alert_state().firing


@pytest.mark.parametrize("width", (80, 100))
def test_the_2023_timeline_and_summary_fit_the_terminal_and_wrap_under_their_values(
    outage: ReplayRecord, width: int
) -> None:
    text = rendered(render(outage), width)
    assert_fits(text, width)
    lines = text.splitlines()
    # The 09:00 push is a mark in its row, and one line (or two, wrapped under itself) below the table.
    assert next(line for line in lines if line.startswith("09:00")).endswith("▶")
    event = next(i for i, line in enumerate(lines) if line.startswith("  09:00 PST ▶ push plans"))
    assert lines[event + 1].startswith("  10:00 PST") or lines[event + 1].startswith(" " * 12)
    # The summary's surfaces run past 80 columns; the rest of the list stays in the value column.
    surfaces = next(i for i, line in enumerate(lines) if "  by surface" in line)
    value_column = lines[surfaces].index("media")
    continued = lines[surfaces + 1]
    assert continued.startswith("│ " + " " * (value_column - 2)) and continued[value_column] != " "
