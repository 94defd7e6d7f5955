"""Each safety layer, replayed on a short hour: what it does with the billing push, and when it notices."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.replay.engine import ReplayEngine, ReplayRecord
from gateway.replay.scenario import load_scenario
from gateway.replay.summary import summarize
from tests.replay.conftest import short_scenario

QUICK_OPERATORS = "[operators]\nuser_reports_after_minutes = 1\npage_to_rollback_minutes = 1\n"


def replay(path: Path, safety: str, sli: str = "first-party-denials") -> ReplayRecord:
    return asyncio.run(ReplayEngine(load_scenario(path), safety=safety, sli=sli).run())


def first_party_467(record: ReplayRecord) -> int:
    return sum(n for (m, c, s, status), n in record.counts.items() if status == 467 and record.classes[c])


def actions(record: ReplayRecord) -> list[tuple[int, str, str]]:
    return [(e.minute, e.action, e.by) for e in record.events]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """Ten minutes: the billing plan pushed at minute 2, rolled back by history at minute 9."""
    events = f"""
[[events]]
minute = 2
action = "push_plans"
file = "{Path(__file__).resolve().parents[2] / "plans" / "2023-03-06-billing.toml"}"
note = "billing ships"

[[events]]
minute = 9
action = "rollback_plans"
note = "history's rollback"
"""
    return short_scenario(tmp_path, events=events, minutes=10, header_extra=QUICK_OPERATORS)


def test_without_a_layer_first_party_467s_last_from_push_to_rollback(scenario: Path) -> None:
    record = replay(scenario, "none")
    assert summarize(record).impact_minutes == 7
    assert record.detected_by is None


def test_the_diff_gate_blocks_the_push_so_no_first_party_request_fails(scenario: Path) -> None:
    record = replay(scenario, "diff")
    assert first_party_467(record) == 0
    assert actions(record) == [(2, "blocked", "diff gate"), (9, "noop", "scenario")]
    assert (record.detected_minute, record.detected_by) == (2, "diff gate")
    assert set(record.plans_by_minute) == {"2023-02-baseline"}


def test_shadow_abandons_the_candidate_without_ever_enforcing_it(scenario: Path) -> None:
    record = replay(scenario, "shadow")
    assert first_party_467(record) == 0
    assert actions(record)[:2] == [(2, "push_plans", "shadow"), (2, "abandoned", "shadow")]
    assert record.plans_by_minute[2] == "2023-02-baseline (+shadow 2023-03-06-billing)"
    assert record.plans_by_minute[3] == "2023-02-baseline"


def test_canary_under_first_party_denials_rolls_back_in_the_minute_after_the_push(scenario: Path) -> None:
    none = first_party_467(replay(scenario, "none"))
    record = replay(scenario, "canary")
    assert 0 < first_party_467(record) < none / 20
    # The short hour's ~120 first-party requests a minute put 12 in a 10% slice: the 20 the
    # controller needs to judge arrive in the minute after the push.
    assert (3, "rollback_plans", "canary controller") in actions(record)
    assert record.detected_by == "canary controller"


def test_canary_under_a_5xx_sli_sees_nothing_wrong_in_the_467s(scenario: Path) -> None:
    record = replay(scenario, "canary", sli="5xx")
    assert record.detected_by is None
    assert not any(by == "canary controller" for _, _, by in actions(record))
    assert first_party_467(record) > 0


def test_the_alert_pages_and_operators_roll_back_page_to_rollback_minutes_later(scenario: Path) -> None:
    record = replay(scenario, "alert")
    assert (2, "page", "burn-rate alert") in actions(record)
    assert (4, "rollback_plans", "operators") in actions(record)
    assert summarize(record).impact_minutes == 2


def test_a_5xx_alert_never_pages_on_the_467_outage(scenario: Path) -> None:
    record = replay(scenario, "alert", sli="5xx")
    assert not any(action == "page" for _, action, _ in actions(record))
    assert summarize(record).impact_minutes == 7


def test_an_unknown_layer_is_refused(scenario: Path) -> None:
    with pytest.raises(ValueError, match="unknown safety layer"):
        ReplayEngine(load_scenario(scenario), safety="prayer")
