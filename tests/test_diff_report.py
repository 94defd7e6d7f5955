"""Rendering a grant diff: first-party losses first and marked, a one-line verdict, stable JSON."""

from __future__ import annotations

import json

from rich.console import Console

from gateway.core.decision import DecisionTable
from gateway.safety.diff import GrantDiff, TrafficEntry, TrafficWeights, diff_tables, weigh
from gateway.safety.diff_report import diff_json, render_diff, verdict

T0 = 1678118400.0
LOG = [
    TrafficEntry("tco", "GET", "/2/links/abc", T0),
    TrafficEntry("tco", "GET", "/2/links/def", T0 + 60),
    TrafficEntry("sunrise-bot", "GET", "/2/tweets/1", T0 + 30),
    TrafficEntry("ghost", "GET", "/2/tweets/1", T0 + 30),
]


def text_of(diff: GrantDiff, weights: TrafficWeights | None = None) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(render_diff(diff, weights))
    return console.export_text()


def test_billing_report_shows_first_party_losses_before_third_party_and_ends_with_the_verdict(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    text = text_of(diff_tables(baseline_table, billing_table))
    assert text.index("▼ FIRST-PARTY LOSSES: 7 clients, 245 grants") < text.index("third-party losses")
    assert "exempt:first_party → plan:free/deny" in text
    assert "links.click, links.preview, links.resolve" in text
    last_line = text.rstrip().splitlines()[-1]
    assert last_line == (
        "FIRST-PARTY LOSS: 7 first-party clients lose 245 grants (links, media, timeline, tweets, "
        "tweetdeck, login, users, search, streams, compliance, usage, spaces, dm)"
    )


def test_fixed_report_has_no_first_party_section_and_says_so(
    baseline_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    text = text_of(diff_tables(baseline_table, fixed_table))
    assert "FIRST-PARTY" not in text
    assert "sunrise-bot" in text and "legacy-reader" in text
    assert text.rstrip().splitlines()[-1] == "no first-party loss (34 third-party grants lost, 0 gained)"


def test_a_report_of_no_change_says_nothing_changes(fixed_table: DecisionTable) -> None:
    diff = diff_tables(fixed_table, fixed_table)
    text = text_of(diff)
    assert "no client loses or gains any grant" in text
    assert verdict(diff) == "no first-party loss (0 third-party grants lost, 0 gained)"


def test_rolling_back_is_reported_as_gains_in_their_own_section(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    text = text_of(diff_tables(billing_table, baseline_table))
    assert "gains: 10 clients, 279 grants" in text  # newsdesk-pro's enterprise plan is unchanged
    assert "FIRST-PARTY" not in text
    assert "no first-party loss (0 third-party grants lost, 279 gained)" in text


def test_report_with_traffic_has_a_failing_rate_column_and_a_total(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, billing_table)
    text = text_of(diff, weigh(diff, baseline_table, billing_table, LOG, None))
    assert "req/min failing" in text
    links_row = next(line for line in text.splitlines() if "links.resolve" in line and "tco" in line)
    assert links_row.rstrip().endswith("2.0")
    assert (
        "traffic: 3 requests over 1.0 min; 3.0 req/min would fail (first-party 2.0, third-party 1.0); "
        "not weighed: 1 line from clients unknown to OLD, 1 unknown to NEW"
    ) in text


def test_json_lists_first_party_losses_first_and_counts_them(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    document = diff_json(diff_tables(baseline_table, billing_table))
    assert document["first_party_loss"] is True
    assert document["counts"] == {"first_party_losses": 245, "third_party_losses": 34, "gains": 0}
    assert document["first_party_clients_losing"] == sorted(
        ["web", "ios", "android", "tweetdeck", "tco", "media", "login"]
    )
    changes = document["changes"]
    assert isinstance(changes, list)
    assert changes[0] == {
        "client_id": "android",
        "client_class": "android",
        "first_party": True,
        "endpoint_id": "compliance.create",
        "surface": "compliance",
        "method": "POST",
        "path": "/2/compliance/jobs",
        "change": "lost",
        "rule_before": "exempt:first_party",
        "rule_after": "plan:free/deny",
        "request": "POST /2/compliance/jobs",
    }
    assert document["traffic"] is None


def test_json_is_deterministic_and_survives_a_round_trip(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, billing_table)
    weights = weigh(diff, baseline_table, billing_table, LOG, None)
    first = json.dumps(diff_json(diff, weights))
    again = json.dumps(diff_json(diff_tables(baseline_table, billing_table), weights))
    assert first == again
    assert json.loads(first) == diff_json(diff, weights)
    assert list(json.loads(first)) == [
        "old_version",
        "new_version",
        "first_party_loss",
        "verdict",
        "counts",
        "first_party_clients_losing",
        "first_party_surfaces_lost",
        "changes",
        "traffic",
    ]


def test_json_with_traffic_rates_each_change_and_lists_the_failing_traffic(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, billing_table)
    document = diff_json(diff, weigh(diff, baseline_table, billing_table, LOG, None))
    changes = document["changes"]
    assert isinstance(changes, list)
    tco = next(c for c in changes if (c["client_id"], c["endpoint_id"]) == ("tco", "links.resolve"))
    assert tco["failing_per_minute"] == 2.0
    assert document["traffic"] == {
        "minutes": 1.0,
        "requests_weighed": 3,
        "requests_failing": 3,
        "failing_per_minute": 3.0,
        "first_party_failing_per_minute": 2.0,
        "unknown_to_old": 1,
        "unknown_to_new": 1,
        "failing": [
            {"client": "sunrise-bot", "endpoint": "tweets.lookup", "per_minute": 1.0},
            {"client": "tco", "endpoint": "links.resolve", "per_minute": 2.0},
        ],
    }
