"""The SLI, windowed counts, burn-rate alerts and per-class status, on a fake clock."""

from __future__ import annotations

import json

import pytest

from gateway.core.rules import status_kind
from gateway.request_path.slo import (
    DEFAULT_MIN_REQUESTS,
    DEFAULT_RULES,
    SLI_NAMES,
    AvailabilityTracker,
    BurnRateAlert,
    BurnRateRule,
    Sli,
    WindowCounts,
    class_statuses,
    is_bad,
    overall_status,
    parse_sli,
    status_document,
    window_label,
)

RPS = 60
HOUR = 3600.0


class Traffic:
    """Steady virtual traffic into a tracker: `RPS` requests a second, a set share of them failing.

    Failures are spread evenly (a running fraction), so any window sees the share exactly
    up to one request. `now` only moves forward, as on the replay's virtual clock.
    """

    def __init__(self, tracker: AvailabilityTracker, sli: Sli = "first-party-denials") -> None:
        self.tracker = tracker
        self.sli = sli
        self.now = 0.0
        self._sent = 0
        self._failed = 0

    def run(
        self,
        seconds: float,
        error_share: float,
        status: int = 467,
        client_class: str = "web",
        first_party: bool = True,
        rps: int = RPS,
    ) -> None:
        for _ in range(round(seconds * rps)):
            self._sent += 1
            failing = self._failed < error_share * self._sent
            self._failed += failing
            code = status if failing else 200
            bad = is_bad(self.sli, first_party, status_kind(code), gateway_made=failing and status < 500)
            self.tracker.record(client_class, first_party, bad, self.now)
            self.now += 1 / rps
        self._sent = self._failed = 0

    def run_until_firing(self, alert: BurnRateAlert, limit: float, error_share: float, status: int) -> float:
        """Seconds of traffic until `alert` fires, evaluated every virtual second; `limit` if never."""
        started = self.now
        while self.now - started < limit:
            self.run(1, error_share, status)
            if alert.evaluate(self.tracker, self.now).firing:
                return self.now - started
        return limit


# is_bad: the definition of failure decides what the dashboards can see.


@pytest.mark.parametrize(
    ("sli", "first_party", "status", "gateway_made", "expected"),
    [
        ("5xx", True, 200, False, False),
        ("5xx", True, 467, True, False),
        ("5xx", False, 467, True, False),
        ("5xx", True, 429, True, False),
        ("5xx", True, 503, False, True),
        ("5xx", False, 503, False, True),
        ("5xx", True, 500, True, True),
        ("first-party-denials", True, 200, False, False),
        ("first-party-denials", True, 467, True, True),
        ("first-party-denials", False, 467, True, False),
        ("first-party-denials", True, 429, True, True),
        ("first-party-denials", True, 401, True, True),
        ("first-party-denials", True, 404, True, True),
        ("first-party-denials", True, 400, True, True),
        ("first-party-denials", False, 429, True, False),
        ("first-party-denials", True, 503, False, True),
        ("first-party-denials", False, 503, False, True),
        ("first-party-denials", True, 404, False, False),
    ],
)
def test_is_bad_truth_table(
    sli: Sli, first_party: bool, status: int, gateway_made: bool, expected: bool
) -> None:
    assert is_bad(sli, first_party, status_kind(status), gateway_made) is expected


def test_parse_sli_accepts_the_two_names_and_refuses_others_in_one_line() -> None:
    assert [parse_sli(name) for name in SLI_NAMES] == ["5xx", "first-party-denials"]
    with pytest.raises(ValueError, match="unknown SLI '5XX'"):
        parse_sli("5XX")


def test_467_to_first_party_is_bad_only_under_first_party_denials() -> None:
    assert is_bad("first-party-denials", True, status_kind(467), True)
    assert not is_bad("5xx", True, status_kind(467), True)


def test_467_to_third_party_is_never_bad() -> None:
    assert not any(is_bad(sli, False, status_kind(467), True) for sli in ("5xx", "first-party-denials"))


# AvailabilityTracker


def test_window_counts_only_requests_inside_it_per_class() -> None:
    tracker = AvailabilityTracker(bucket_seconds=10)
    tracker.record("web", True, True, 5.0)
    tracker.record("web", True, False, 65.0)
    tracker.record("ios", True, True, 95.0)
    # A 60 s window at 100 covers the buckets 50..109.
    assert tracker.window(100.0, 60, "web") == WindowCounts(1, 0)
    assert tracker.window(100.0, 60, "ios") == WindowCounts(1, 1)
    assert tracker.window(100.0, 120, "web") == WindowCounts(2, 1)
    assert tracker.window(100.0, 60, "android") == WindowCounts(0, 0)


def test_window_without_a_class_sums_first_party_classes_only() -> None:
    tracker = AvailabilityTracker()
    tracker.record("web", True, True, 1.0)
    tracker.record("ios", True, False, 2.0)
    tracker.record("third_party", False, True, 3.0)
    assert tracker.window(10.0, 300) == WindowCounts(2, 1)


def test_a_window_with_less_history_counts_what_was_recorded() -> None:
    tracker = AvailabilityTracker()
    for second in range(100):
        tracker.record("web", True, second % 4 == 0, float(second))
    counts = tracker.window(100.0, 3600)
    assert counts == WindowCounts(100, 25)
    assert counts.error_rate == 0.25


def test_empty_window_has_error_rate_zero() -> None:
    assert WindowCounts(0, 0).error_rate == 0.0


def test_classes_are_listed_sorted_with_their_first_party_flag() -> None:
    tracker = AvailabilityTracker()
    tracker.record("web", True, False, 0.0)
    tracker.record("third_party", False, False, 0.0)
    tracker.record("ios", True, False, 0.0)
    assert list(tracker.classes().items()) == [("ios", True), ("third_party", False), ("web", True)]


def test_a_class_cannot_be_both_first_and_third_party() -> None:
    tracker = AvailabilityTracker()
    tracker.record("partner", False, False, 0.0)
    with pytest.raises(ValueError, match="both"):
        tracker.record("partner", True, False, 1.0)


def test_old_buckets_are_pruned_so_memory_stays_bounded() -> None:
    tracker = AvailabilityTracker(bucket_seconds=10, retention_seconds=600)
    for second in range(24 * 3600):
        tracker.record("web", True, False, float(second))
    # 60 live buckets, and at most as many dead ones awaiting deletion.
    assert tracker.held_buckets <= 2 * 60 + 1
    assert tracker.window(24 * HOUR - 1, 600) == WindowCounts(600, 0)


def test_windows_stay_exact_across_pruning() -> None:
    tracker = AvailabilityTracker(bucket_seconds=10, retention_seconds=100)
    for second in range(1000):
        tracker.record("web", True, second >= 950, float(second))
    assert tracker.window(999.0, 100) == WindowCounts(100, 50)
    assert tracker.window(999.0, 30) == WindowCounts(30, 30)
    # After an idle spell the window holds only the part of the history still inside it.
    assert tracker.window(1050.0, 100) == WindowCounts(40, 40)
    assert tracker.window(1200.0, 100) == WindowCounts(0, 0)


def test_a_window_longer_than_the_retention_is_refused() -> None:
    tracker = AvailabilityTracker(retention_seconds=3600)
    with pytest.raises(ValueError, match="longer than this tracker keeps"):
        tracker.window(0.0, 21600)


def test_a_record_from_slightly_earlier_than_the_newest_bucket_is_still_counted() -> None:
    tracker = AvailabilityTracker(bucket_seconds=10)
    tracker.record("web", True, False, 25.0)
    tracker.record("web", True, True, 19.0)
    assert tracker.window(29.0, 10) == WindowCounts(2, 1)


def test_the_5xx_view_counts_only_server_errors_of_the_same_requests() -> None:
    tracker = AvailabilityTracker(bucket_seconds=10)
    tracker.record("web", True, True, 5.0)  # a 467: bad under first-party-denials only
    tracker.record("web", True, True, 6.0, server_error=True)
    tracker.record("web", True, False, 7.0)
    assert tracker.window(9.0, 60, "web") == WindowCounts(3, 2)
    assert tracker.window(9.0, 60, "web", only_5xx=True) == WindowCounts(3, 1)


def test_the_5xx_view_stays_exact_across_pruning() -> None:
    tracker = AvailabilityTracker(bucket_seconds=10, retention_seconds=100)
    for second in range(1000):
        tracker.record("web", True, second >= 900, float(second), server_error=second >= 950)
    assert tracker.window(999.0, 100) == WindowCounts(100, 100)
    assert tracker.window(999.0, 100, only_5xx=True) == WindowCounts(100, 50)
    assert tracker.window(1050.0, 100, only_5xx=True) == WindowCounts(40, 40)


# BurnRateAlert


def test_window_labels_name_hours_minutes_and_seconds() -> None:
    assert [window_label(s) for s in (3600, 300, 21600, 1800, 90)] == ["1h", "5m", "6h", "30m", "90s"]


def test_the_default_rules_are_the_sre_workbook_paging_pair() -> None:
    assert [(r.long_seconds, r.short_seconds, r.factor) for r in DEFAULT_RULES] == [
        (3600, 300, 14.4),
        (21600, 1800, 6.0),
    ]


def test_alert_does_not_fire_on_a_clean_hour() -> None:
    traffic = Traffic(AvailabilityTracker())
    traffic.run(HOUR, error_share=0.0)
    state = BurnRateAlert().evaluate(traffic.tracker, traffic.now)
    assert not state.firing
    assert state.fired_by is None
    assert state.burn_rates == {"1h": 0.0, "5m": 0.0, "6h": 0.0, "30m": 0.0}


def test_alert_does_not_fire_on_one_bad_minute_in_a_busy_hour() -> None:
    traffic = Traffic(AvailabilityTracker())
    alert = BurnRateAlert()
    traffic.run(HOUR, error_share=0.0)
    for _ in range(60):
        traffic.run(1, error_share=0.2)
        assert not alert.evaluate(traffic.tracker, traffic.now).firing
    rates = alert.evaluate(traffic.tracker, traffic.now).burn_rates
    # The short windows burn hot; the long ones, diluted by the clean hour, do not.
    assert rates["5m"] > 14.4 and rates["1h"] < 14.4
    assert rates["30m"] > 6 and rates["6h"] < 6


def test_alert_fires_within_two_minutes_of_a_step_to_66_percent_first_party_errors() -> None:
    traffic = Traffic(AvailabilityTracker())
    alert = BurnRateAlert()
    traffic.run(HOUR, error_share=0.0)
    assert traffic.run_until_firing(alert, limit=120, error_share=0.66, status=467) < 120


def test_alert_stops_firing_after_recovery_once_the_slow_burn_short_window_clears() -> None:
    traffic = Traffic(AvailabilityTracker())
    alert = BurnRateAlert()
    traffic.run(HOUR, error_share=0.0)
    traffic.run(600, error_share=0.66)
    assert alert.evaluate(traffic.tracker, traffic.now).fired_by == "fast-burn"
    traffic.run(600, error_share=0.0)
    # Ten minutes on, the 5 m window is clean, so fast-burn is off; the errors are still
    # inside the 30 m window, so slow-burn keeps the page up.
    state = alert.evaluate(traffic.tracker, traffic.now)
    assert state.fired_by == "slow-burn"
    assert state.burn_rates["5m"] == 0.0
    traffic.run(1260, error_share=0.0)
    # 31 minutes after recovery the 30 m window is clean too.
    assert not alert.evaluate(traffic.tracker, traffic.now).firing


def test_alert_fires_on_the_slow_burn_rule_for_a_sustained_1_percent_error_rate() -> None:
    traffic = Traffic(AvailabilityTracker())
    traffic.run(HOUR, error_share=0.01, rps=10)
    state = BurnRateAlert().evaluate(traffic.tracker, traffic.now)
    # A burn of 10: above the slow rule's 6, below the fast rule's 14.4.
    assert state.burn_rates["1h"] == pytest.approx(10, rel=0.02)
    assert state.firing
    assert state.fired_by == "slow-burn"


def test_under_the_5xx_sli_a_467_outage_never_fires() -> None:
    traffic = Traffic(AvailabilityTracker(), sli="5xx")
    alert = BurnRateAlert()
    traffic.run(HOUR, error_share=0.0)
    took = traffic.run_until_firing(alert, limit=1800, error_share=0.66, status=467)
    assert took == 1800
    assert alert.evaluate(traffic.tracker, traffic.now).burn_rates["5m"] == 0.0


def test_under_the_5xx_sli_a_503_outage_fires() -> None:
    traffic = Traffic(AvailabilityTracker(), sli="5xx")
    alert = BurnRateAlert()
    traffic.run(HOUR, error_share=0.0)
    assert traffic.run_until_firing(alert, limit=120, error_share=0.66, status=503) < 120


def test_alert_honours_a_configured_slo_and_rules() -> None:
    tracker = AvailabilityTracker(retention_seconds=600)
    for second in range(600):
        tracker.record("web", True, second % 10 == 0, float(second))
    rule = BurnRateRule(600, 60, 5.0, "ten-minutes")
    # 10% errors: burn 100 at 99.9%, but only 5 at 98% (not above the factor).
    assert BurnRateAlert(slo=0.999, rules=(rule,)).evaluate(tracker, 600.0).fired_by == "ten-minutes"
    assert not BurnRateAlert(slo=0.98, rules=(rule,)).evaluate(tracker, 600.0).firing


def test_a_rule_whose_short_window_is_longer_than_its_long_window_is_refused() -> None:
    with pytest.raises(ValueError, match="short_seconds <= long_seconds"):
        BurnRateRule(300, 3600, 14.4, "backwards")


# Status per client class

# The last second of `_steady`'s five minutes, so the 5 m window holds all of them.
NOW = 299.0


def _steady(
    tracker: AvailabilityTracker, client_class: str, first_party: bool, bad_share: float, start: int = 0
) -> None:
    """One request a second for five minutes from `start`, the first `bad_share` of them bad."""
    for second in range(300):
        tracker.record(client_class, first_party, second < bad_share * 300, float(start + second))


def test_a_class_at_100_percent_467_is_an_outage_under_first_party_denials() -> None:
    tracker = AvailabilityTracker()
    denied = is_bad("first-party-denials", True, status_kind(467), True)
    for second in range(300):
        tracker.record("tco", True, denied, float(second))
    status = class_statuses(tracker, NOW)["tco"]
    assert (status.state, status.error_rate, status.requests) == ("outage", 1.0, 300)


def test_the_same_467_outage_is_operational_under_5xx() -> None:
    tracker = AvailabilityTracker()
    for second in range(300):
        tracker.record("tco", True, is_bad("5xx", True, status_kind(467), True), float(second))
    assert class_statuses(tracker, NOW)["tco"].state == "operational"


def test_an_error_rate_between_the_fast_burn_level_and_half_is_degraded() -> None:
    tracker = AvailabilityTracker()
    _steady(tracker, "web", True, 0.05)
    _steady(tracker, "ios", True, 0.01)
    statuses = class_statuses(tracker, NOW)
    # 1.44% is the degraded threshold at 99.9%.
    assert statuses["web"].state == "degraded"
    assert statuses["ios"].state == "operational"
    assert class_statuses(tracker, NOW, slo=0.99)["web"].state == "operational"


def test_a_class_with_no_requests_in_five_minutes_has_no_traffic() -> None:
    tracker = AvailabilityTracker()
    tracker.record("media", True, True, 0.0)
    status = class_statuses(tracker, 900.0)["media"]
    assert (status.state, status.requests) == ("no traffic", 0)


def test_overall_is_the_worst_first_party_state_and_ignores_third_party() -> None:
    tracker = AvailabilityTracker()
    _steady(tracker, "web", True, 0.0)
    _steady(tracker, "third_party", False, 1.0)
    assert overall_status(class_statuses(tracker, NOW)) == "operational"
    _steady(tracker, "ios", True, 0.05)
    assert overall_status(class_statuses(tracker, NOW)) == "degraded"
    _steady(tracker, "tco", True, 1.0)
    assert overall_status(class_statuses(tracker, NOW)) == "outage"


def test_overall_is_no_traffic_only_when_every_first_party_class_is_idle() -> None:
    tracker = AvailabilityTracker()
    tracker.record("media", True, False, 0.0)
    _steady(tracker, "third_party", False, 0.0, start=600)
    assert overall_status(class_statuses(tracker, 600 + NOW)) == "no traffic"
    _steady(tracker, "web", True, 0.0, start=600)
    assert overall_status(class_statuses(tracker, 600 + NOW)) == "operational"


def test_overall_is_no_traffic_without_first_party_classes() -> None:
    assert overall_status({}) == "no traffic"


def test_one_quiet_class_does_not_hide_the_judged_ones_nor_pass_for_operational_alone() -> None:
    tracker = AvailabilityTracker()
    for second in range(5):
        tracker.record("login", True, False, float(second))
    assert overall_status(class_statuses(tracker, NOW)) == "not enough traffic"
    _steady(tracker, "web", True, 0.0)
    statuses = class_statuses(tracker, NOW)
    assert (statuses["login"].state, overall_status(statuses)) == ("not enough traffic", "operational")


# The status document


def test_status_document_reports_the_467_outage_by_class_in_a_fixed_order() -> None:
    tracker = AvailabilityTracker()
    _steady(tracker, "web", True, 0.0)
    _steady(tracker, "tco", True, 1.0)
    _steady(tracker, "third_party", False, 0.0)
    alert = BurnRateAlert().evaluate(tracker, NOW)
    document = status_document(tracker, alert, NOW, "first-party-denials", 0.999)
    assert list(document) == [
        "status",
        "sli",
        "slo",
        "min_requests",
        "window_seconds",
        "recovering",
        "alert",
        "classes",
        "5xx_view",
    ]
    assert document["recovering"] is None
    assert document["status"] == "outage"
    assert (document["sli"], document["slo"]) == ("first-party-denials", 0.999)
    assert document["alert"]["firing"] is True
    assert document["alert"]["fired_by"] == "fast-burn"
    assert list(document["alert"]["burn_rates"]) == ["1h", "5m", "6h", "30m"]
    assert list(document["classes"]) == ["tco", "third_party", "web"]
    assert document["classes"]["tco"] == {
        "status": "outage",
        "first_party": True,
        "error_rate_5m": 1.0,
        "requests_5m": 300,
    }
    assert json.loads(json.dumps(document)) == document


def test_status_document_says_beside_it_what_a_5xx_only_page_would_say() -> None:
    tracker = AvailabilityTracker()
    denied = is_bad("first-party-denials", True, status_kind(467), True)
    for second in range(300):
        tracker.record("tco", True, denied, float(second))
        tracker.record("media", True, True, float(second), server_error=second % 2 == 0)
    alert = BurnRateAlert().evaluate(tracker, NOW)
    document = status_document(tracker, alert, NOW, "first-party-denials", 0.999)
    assert document["status"] == "outage"
    assert document["5xx_view"] == {
        "status": "outage",
        "classes": {
            "media": {"status": "outage", "error_rate_5m": 0.5},
            "tco": {"status": "operational", "error_rate_5m": 0.0},
        },
    }


# Minimum evidence before a class is degraded or outage, or an alert pages


def test_below_min_requests_a_failing_class_is_not_enough_traffic_and_shows_its_error_rate() -> None:
    tracker = AvailabilityTracker()
    for second in range(DEFAULT_MIN_REQUESTS - 1):
        tracker.record("tco", True, True, float(second))
    status = class_statuses(tracker, NOW)["tco"]
    assert (status.state, status.error_rate, status.requests) == ("not enough traffic", 1.0, 19)
    tracker.record("tco", True, True, float(DEFAULT_MIN_REQUESTS))
    assert class_statuses(tracker, NOW)["tco"].state == "outage"


def test_min_requests_is_configurable_for_the_status() -> None:
    tracker = AvailabilityTracker()
    for second in range(5):
        tracker.record("tco", True, True, float(second))
    assert class_statuses(tracker, NOW, min_requests=5)["tco"].state == "outage"
    assert class_statuses(tracker, NOW, min_requests=6)["tco"].state == "not enough traffic"


# After a rollback


def _outage_then_rollback(tracker: AvailabilityTracker, healthy_seconds: int) -> float:
    """tco fails for 120 s, is rolled back at 120 s, then succeeds for `healthy_seconds`."""
    for second in range(120):
        tracker.record("tco", True, True, float(second))
    for second in range(120, 120 + healthy_seconds):
        tracker.record("tco", True, False, float(second))
    return 120.0


def test_a_class_whose_window_still_holds_failures_from_before_a_rollback_is_recovering() -> None:
    tracker = AvailabilityTracker()
    rolled_back = _outage_then_rollback(tracker, 60)
    assert class_statuses(tracker, 180.0)["tco"].state == "outage"  # without the rollback, the window says
    assert class_statuses(tracker, 180.0, rolled_back_at=rolled_back)["tco"].state == "recovering"
    # Once the window has moved past the rollback, the class is judged on its figures again.
    assert class_statuses(tracker, 420.0 + 10, rolled_back_at=rolled_back)["tco"].state == "operational"


def test_a_class_still_failing_after_a_rollback_is_not_recovering() -> None:
    tracker = AvailabilityTracker()
    for second in range(180):
        tracker.record("tco", True, True, float(second))
    assert class_statuses(tracker, 180.0, rolled_back_at=120.0)["tco"].state == "outage"


def test_the_status_document_says_which_rollback_a_recovering_class_recovers_from() -> None:
    tracker = AvailabilityTracker()
    rolled_back = _outage_then_rollback(tracker, 60)
    alert = BurnRateAlert().evaluate(tracker, 180.0)
    document = status_document(
        tracker, alert, 180.0, "first-party-denials", 0.999, last_rollback=(rolled_back, "canary: tco's")
    )
    assert document["status"] == "recovering"
    assert document["recovering"] == {"since": 120.0, "reason": "canary: tco's"}


def test_one_bad_request_cannot_page_though_its_burn_rate_is_1000() -> None:
    tracker = AvailabilityTracker()
    tracker.record("tco", True, True, 0.0)
    alert = BurnRateAlert().evaluate(tracker, 1.0)
    assert alert.burn_rates["5m"] == pytest.approx(1000.0)
    assert (alert.firing, alert.fired_by) == (False, None)
    assert BurnRateAlert(min_requests=1).evaluate(tracker, 1.0).firing is True


def test_the_alert_pages_once_both_windows_hold_min_requests() -> None:
    tracker = AvailabilityTracker()
    for second in range(DEFAULT_MIN_REQUESTS):
        tracker.record("tco", True, True, float(second))
    assert BurnRateAlert().evaluate(tracker, 30.0).fired_by == "fast-burn"


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_min_requests_must_be_a_whole_number_of_at_least_one(bad: object) -> None:
    with pytest.raises(ValueError, match="min_requests must be a whole number of at least 1"):
        BurnRateAlert(min_requests=bad)  # type: ignore[arg-type]
