"""The replay engine: a few virtual minutes through the real gateway, asserted on their counts."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from gateway.core.planfile import load_plan_set
from gateway.replay.engine import ReplayEngine, ReplayRecord
from gateway.replay.scenario import load_scenario
from gateway.replay.traffic import TrafficModel
from tests.replay.conftest import short_scenario


def replay(path: Path, seed: int | None = None) -> ReplayRecord:
    return asyncio.run(ReplayEngine(load_scenario(path), seed=seed).run())


def by_minute_class_status(record: ReplayRecord) -> Counter[tuple[int, str, int]]:
    totals: Counter[tuple[int, str, int]] = Counter()
    for (minute, client_class, _surface, status), count in record.counts.items():
        totals[(minute, client_class, status)] += count
    return totals


def test_first_party_467s_start_at_the_push_and_stop_at_the_rollback(tmp_path: Path) -> None:
    record = replay(short_scenario(tmp_path))
    totals = by_minute_class_status(record)
    first_party_467 = {
        m: sum(n for (mm, c, s), n in totals.items() if mm == m and s == 467 and record.classes[c])
        for m in range(6)
    }
    assert first_party_467[0] == first_party_467[1] == 0
    assert first_party_467[2] > 0 and first_party_467[3] > 0
    assert first_party_467[4] == first_party_467[5] == 0


def test_tco_link_resolution_is_all_467_under_the_billing_plan_and_all_301_otherwise(tmp_path: Path) -> None:
    record = replay(short_scenario(tmp_path))
    totals = by_minute_class_status(record)
    for minute in range(6):
        statuses = {status for (m, c, status), n in totals.items() if m == minute and c == "tco" and n}
        assert statuses == ({467} if minute in (2, 3) else {301}), minute


def test_enterprise_third_party_is_unaffected_by_the_billing_push(tmp_path: Path) -> None:
    record = replay(short_scenario(tmp_path))
    statuses = {status for (m, c, s, status) in record.counts if c == "third_party"}
    assert statuses == {200}


def test_counts_add_up_to_the_generated_traffic(tmp_path: Path) -> None:
    scenario = load_scenario(short_scenario(tmp_path))
    record = asyncio.run(ReplayEngine(scenario).run())
    model = TrafficModel(scenario, load_plan_set(scenario.plans))
    generated = sum(len(model.minute(minute, scenario.seed)) for minute in range(scenario.minutes))
    assert record.requests == generated > 0


def test_versions_in_force_follow_the_events(tmp_path: Path) -> None:
    record = replay(short_scenario(tmp_path))
    assert record.plans_by_minute == (
        "2023-02-baseline",
        "2023-02-baseline",
        "2023-03-06-billing",
        "2023-03-06-billing",
        "2023-02-baseline",
        "2023-02-baseline",
    )
    assert [(e.minute, e.action, e.version) for e in record.events] == [
        (2, "push_plans", "2023-03-06-billing"),
        (4, "rollback_plans", "2023-02-baseline"),
    ]


def test_the_same_seed_gives_the_same_counts_and_another_seed_different_ones(tmp_path: Path) -> None:
    path = short_scenario(tmp_path)
    assert replay(path).counts == replay(path).counts
    assert replay(path, seed=8).counts != replay(path).counts


def test_quota_is_counted_on_the_virtual_clock(tmp_path: Path) -> None:
    """web under the billing plan is judged as free (50 requests per 15 minutes): once its
    allowed tweet creations pass 50 in the window, it gets 429, which resets only with the window."""
    traffic = """
[[traffic]]
client = "web"
key = "gw467-demo-web"
per_minute = 40
mix = { "tweets.create" = 1 }
"""
    events = f"""
[[events]]
minute = 0
action = "push_plans"
file = "{Path(__file__).resolve().parents[2] / "plans" / "2023-03-06-billing.toml"}"
"""
    record = replay(short_scenario(tmp_path, traffic=traffic, events=events, minutes=4))
    totals = by_minute_class_status(record)
    allowed = sum(n for (m, c, s), n in totals.items() if s == 201)
    # 08:58 start: the window 08:45-09:00 covers minutes 0-1, the next one starts at minute 2.
    assert allowed == 100
    assert totals[(0, "web", 201)] + totals[(1, "web", 201)] == 50
    assert totals[(1, "web", 429)] > 0


def test_each_minute_records_the_status_page_under_the_sli_and_what_a_5xx_only_page_said(
    tmp_path: Path,
) -> None:
    record = replay(short_scenario(tmp_path))
    pages = record.status_by_minute
    assert len(pages) == 6
    assert [page.status for page in pages[:2]] == ["operational", "operational"]
    # Over a 5-minute window: degraded once a third of it is 467s, outage at half
    # (minute 3, media: all 467); after the rollback at minute 4, recovering (never operational)
    # while the window still holds them.
    assert [page.status for page in pages[2:]] == ["degraded", "outage", "recovering", "recovering"]
    assert pages[3].classes["media"] == "outage" and pages[2].alert_firing
    assert all(page.status_5xx == "operational" for page in pages)
    assert all(page.classes_5xx["tco"] == "operational" for page in pages)
