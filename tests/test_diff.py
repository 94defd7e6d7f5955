"""The blast-radius diff: grant changes between compiled tables, and the traffic they would fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.config import ConfigError
from gateway.core.decision import DecisionTable
from gateway.core.planfile import sha256_hex
from gateway.core.plans import Client, Endpoint, Grant, Plan, PlanSet, Policy
from gateway.safety.access import GAINED, LOST, AccessChange
from gateway.safety.diff import TrafficEntry, diff_tables, read_traffic_log, weigh

FIRST_PARTY = ("web", "ios", "android", "tweetdeck", "tco", "media", "login")
INCIDENT_SURFACES = {"links", "media", "tweetdeck", "login", "timeline"}

READ = Endpoint("notes.read", "GET", "/notes/{id}", "notes")
WRITE = Endpoint("notes.write", "POST", "/notes", "notes")
EXPORT = Endpoint("export.run", "POST", "/export", "export")


def small_table(
    version: str,
    endpoints: tuple[Endpoint, ...] = (READ, WRITE),
    clients: tuple[tuple[str, str, bool], ...] = (("app", "app", True), ("bot", "third_party", False)),
    reader_grants: tuple[str, ...] = ("notes.read",),
    exempt: tuple[str, ...] = ("first_party",),
) -> DecisionTable:
    """A compiled plan set: first-party clients exempt, everyone else on the `reader` plan."""
    plan = Plan("reader", 0, (Grant(reader_grants),))
    members = tuple(
        Client(client_id, client_class, first_party, (sha256_hex(f"key-of-{client_id}"),))
        for client_id, client_class, first_party in clients
    )
    policy = Policy(exempt=exempt, default_plan="reader")
    return compile_plan_set(PlanSet(version, endpoints, (plan,), members, policy))


def changes_of(table_diff: tuple[AccessChange, ...]) -> set[tuple[str, str, str]]:
    return {(c.client_id, c.endpoint_id, c.change) for c in table_diff}


def test_billing_takes_grants_from_all_seven_first_party_clients(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, billing_table)
    assert {c.client_id for c in diff.first_party_losses} == set(FIRST_PARTY)
    assert not diff.gains
    # Every first-party client keeps only what the free plan grants (5 of 40 endpoints).
    assert len(diff.first_party_losses) == 7 * 35


def test_billing_first_party_losses_cover_the_surfaces_hit_on_the_day(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, billing_table)
    for client_id in FIRST_PARTY:
        surfaces = {c.surface for c in diff.first_party_losses if c.client_id == client_id}
        assert surfaces >= INCIDENT_SURFACES
    tco_links = next(c for c in diff.changes if (c.client_id, c.endpoint_id) == ("tco", "links.resolve"))
    assert tco_links == AccessChange(
        client_id="tco",
        client_class="tco",
        first_party=True,
        endpoint_id="links.resolve",
        surface="links",
        method="GET",
        path="/2/links/{code}",
        change=LOST,
        rule_before="exempt:first_party",
        rule_after="plan:free/deny",
        request="GET /2/links/gw467-probe",
    )


def test_fixed_file_keeps_every_first_party_grant_but_shows_the_intended_third_party_losses(
    baseline_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, fixed_table)
    assert diff.first_party_losses == ()
    lost = changes_of(diff.losses)
    for reader in ("sunrise-bot", "legacy-reader"):
        for endpoint_id in ("tweets.lookup", "timeline.user", "users.lookup", "search.recent"):
            assert (reader, endpoint_id, LOST) in lost
    assert "newsdesk-pro" not in {c.client_id for c in diff.changes}


def test_a_file_compared_with_itself_has_no_changes(billing_table: DecisionTable) -> None:
    diff = diff_tables(billing_table, billing_table)
    assert diff.changes == ()
    assert (diff.old_version, diff.new_version) == ("2023-03-06-billing", "2023-03-06-billing")


def test_changes_list_first_party_losses_then_third_party_losses_then_gains_each_sorted() -> None:
    old = small_table("old", clients=(("app", "app", True), ("bot", "third_party", False)))
    # NEW: the exemption goes (app loses notes.write), bot loses notes.read, a new client gains.
    new = small_table(
        "new",
        clients=(("app", "app", True), ("bot", "third_party", False), ("admin", "zz-ops", True)),
        reader_grants=("notes.write",),
        exempt=("client:admin",),
    )
    diff = diff_tables(old, new)
    sections = [(c.change, c.first_party) for c in diff.changes]
    assert sections == [(LOST, True), (LOST, False), (GAINED, False), (GAINED, True), (GAINED, True)]
    gains = diff.gains
    keys = [(c.client_class, c.surface, c.client_id, c.endpoint_id) for c in gains]
    assert keys == sorted(keys)
    assert changes_of(diff.changes) == {
        ("app", "notes.read", LOST),
        ("bot", "notes.read", LOST),
        ("bot", "notes.write", GAINED),
        ("admin", "notes.read", GAINED),
        ("admin", "notes.write", GAINED),
    }


def test_an_endpoint_removed_is_lost_by_every_client_that_reached_it() -> None:
    old = small_table("old", endpoints=(READ, WRITE, EXPORT))
    new = small_table("new", endpoints=(READ, WRITE))
    diff = diff_tables(old, new)
    assert changes_of(diff.changes) == {("app", "export.run", LOST)}  # bot never reached it
    (change,) = diff.changes
    assert (change.rule_before, change.rule_after) == ("exempt:first_party", "route:none")
    assert (change.surface, change.method, change.path) == ("export", "POST", "/export")


def test_an_endpoint_added_is_gained_by_every_client_that_reaches_it() -> None:
    old = small_table("old", endpoints=(READ, WRITE))
    new = small_table("new", endpoints=(READ, WRITE, EXPORT), reader_grants=("notes.read", "export.*"))
    diff = diff_tables(old, new)
    assert changes_of(diff.changes) == {("app", "export.run", GAINED), ("bot", "export.run", GAINED)}
    assert {(c.rule_before, c.rule_after) for c in diff.changes} == {
        ("route:none", "exempt:first_party"),
        ("route:none", "plan:reader/grant:export.*"),
    }


def test_a_client_removed_loses_everything_it_reached_as_recorded_in_old() -> None:
    old = small_table("old", clients=(("app", "app", True), ("bot", "third_party", False)))
    new = small_table("new", clients=(("app", "app", True),))
    diff = diff_tables(old, new)
    assert changes_of(diff.changes) == {("bot", "notes.read", LOST)}
    (change,) = diff.changes
    assert (change.client_class, change.first_party) == ("third_party", False)
    assert (change.rule_before, change.rule_after) == ("plan:reader/grant:notes.read", "client:removed")


def test_a_client_added_gains_what_it_reaches_as_recorded_in_new() -> None:
    old = small_table("old", clients=(("app", "app", True),))
    new = small_table("new", clients=(("app", "app", True), ("scribe", "web", True)))
    diff = diff_tables(old, new)
    assert changes_of(diff.changes) == {("scribe", "notes.read", GAINED), ("scribe", "notes.write", GAINED)}
    assert {(c.client_class, c.first_party, c.rule_before) for c in diff.changes} == {
        ("web", True, "client:absent")
    }


def test_a_client_whose_party_changes_is_described_by_new() -> None:
    old = small_table("old", clients=(("app", "app", False),))
    new = small_table("new", clients=(("app", "partner", True),))
    diff = diff_tables(old, new)
    assert changes_of(diff.changes) == {("app", "notes.write", GAINED)}
    assert (diff.changes[0].client_class, diff.changes[0].first_party) == ("partner", True)


# --- traffic logs --------------------------------------------------------------------------------


def write_log(tmp_path: Path, *lines: str) -> Path:
    log = tmp_path / "traffic.jsonl"
    log.write_text("".join(line + "\n" for line in lines))
    return log


def test_a_traffic_log_is_read_line_by_line_skipping_empty_lines(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        '{"client": "tco", "method": "GET", "path": "/2/links/abc", "time": 1678118400.5}',
        "",
        "   ",
        '{"client": "web", "method": "POST", "path": "/2/tweets"}',
        '{"client": "web", "method": "GET", "path": "/2/tweets/1", "time": 1678118460}',
    )
    assert read_traffic_log(log) == [
        TrafficEntry("tco", "GET", "/2/links/abc", 1678118400.5),
        TrafficEntry("web", "POST", "/2/tweets", None),
        TrafficEntry("web", "GET", "/2/tweets/1", 1678118460.0),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"client": "tco", "method": "GET", "path": "/2/links/abc"', "not JSON: Expecting ',' delimiter"),
        ('["tco", "GET", "/2/links/abc"]', "expected a JSON object, got an array"),
        ('{"client": "tco", "path": "/2/links/abc"}', "missing required key 'method'"),
        (
            '{"client": 467, "method": "GET", "path": "/x"}',
            "'client' must be a non-empty string, got a number",
        ),
        (
            '{"client": "", "method": "GET", "path": "/x"}',
            "'client' must be a non-empty string, got an empty",
        ),
        (
            '{"client": "tco", "method": "GET", "path": "/x", "time": "09:00"}',
            "'time' must be a number of epoch seconds, got a string",
        ),
        ('{"client": "tco", "method": "GET", "path": "/x", "time": true}', "got true/false"),
        ('{"client": "tco", "method": "GET", "path": "/x", "time": NaN}', "got a non-finite number"),
        ('{"client": "tco", "method": "GET", "path": "/x", "tme": 1}', "unknown key 'tme'"),
    ],
)
def test_a_malformed_traffic_line_is_a_one_line_error_naming_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    log = write_log(tmp_path, '{"client": "tco", "method": "GET", "path": "/2/links/abc"}', line)
    with pytest.raises(ConfigError) as caught:
        read_traffic_log(log)
    text = str(caught.value)
    assert text.startswith(f"{log}: line 2: ")
    assert message in text
    assert "\n" not in text


def test_a_missing_traffic_log_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        read_traffic_log(tmp_path / "absent.jsonl")


T0 = 1678118400.0

HAND_WRITTEN_LOG = [
    # tco resolves links: exempt in the baseline, free-plan 467 in billing. 4 requests.
    TrafficEntry("tco", "GET", "/2/links/abc", T0),
    TrafficEntry("tco", "GET", "/2/links/def", T0 + 30),
    TrafficEntry("tco", "GET", "/2/links/ghi", T0 + 60),
    TrafficEntry("tco", "GET", "/2/links/jkl", T0 + 120),
    # web: home timeline fails in billing (2); posting is granted by the free plan (1).
    TrafficEntry("web", "GET", "/2/users/1/timelines/reverse_chronological", T0 + 10),
    TrafficEntry("web", "GET", "/2/users/2/timelines/reverse_chronological", T0 + 20),
    TrafficEntry("web", "POST", "/2/tweets", T0 + 25),
    # sunrise-bot goes from essential to free and loses tweet lookups (2); newsdesk-pro keeps them.
    TrafficEntry("sunrise-bot", "GET", "/2/tweets/1", T0 + 40),
    TrafficEntry("sunrise-bot", "GET", "/2/tweets/2", None),
    TrafficEntry("newsdesk-pro", "GET", "/2/tweets/3", T0 + 50),
    # Already refused under OLD (no such route): not a failure the change causes.
    TrafficEntry("tco", "GET", "/no/such/endpoint", T0 + 70),
    # A client neither file knows.
    TrafficEntry("ghost", "GET", "/2/links/abc", T0 + 80),
]


def test_traffic_weighting_rates_requests_old_forwards_and_new_refuses_per_minute_of_the_log(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, billing_table)
    weights = weigh(diff, baseline_table, billing_table, HAND_WRITTEN_LOG, None)
    assert weights.minutes == 2.0  # first to last time: 120 seconds
    assert weights.rates == {
        ("tco", "links.resolve"): 2.0,
        ("web", "timeline.home"): 1.0,
        ("sunrise-bot", "tweets.lookup"): 1.0,
    }
    assert weights.first_party_rate == 3.0
    assert weights.total_rate == 4.0
    assert (weights.requests_weighed, weights.requests_failing) == (11, 8)
    assert (weights.unknown_to_old, weights.unknown_to_new) == (1, 1)
    assert weights.rate("newsdesk-pro", "tweets.lookup") == 0.0


def test_traffic_weighting_uses_explicit_minutes_over_the_log_span(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, billing_table)
    weights = weigh(diff, baseline_table, billing_table, HAND_WRITTEN_LOG, 0.5)
    assert weights.minutes == 0.5
    assert weights.rates[("tco", "links.resolve")] == 8.0
    assert weights.total_rate == 16.0


def test_a_log_without_times_or_shorter_than_a_minute_counts_as_one_minute(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, billing_table)
    untimed = [TrafficEntry("tco", "GET", f"/2/links/c{i}", None) for i in range(3)]
    short = [TrafficEntry("tco", "GET", f"/2/links/c{i}", T0 + i) for i in range(3)]
    for entries in (untimed, short):
        weights = weigh(diff, baseline_table, billing_table, entries, None)
        assert weights.minutes == 1.0
        assert weights.rates == {("tco", "links.resolve"): 3.0}


def test_clients_unknown_to_one_table_are_counted_not_weighed() -> None:
    old = small_table("old", clients=(("app", "app", True), ("bot", "third_party", False)))
    new = small_table("new", clients=(("app", "app", True), ("scribe", "web", True)))
    entries = [
        TrafficEntry("bot", "GET", "/notes/1", None),
        TrafficEntry("scribe", "GET", "/notes/1", None),
        TrafficEntry("app", "GET", "/notes/1", None),
    ]
    weights = weigh(diff_tables(old, new), old, new, entries, None)
    assert (weights.unknown_to_old, weights.unknown_to_new) == (1, 1)
    assert (weights.requests_weighed, weights.requests_failing) == (1, 0)
    assert weights.total_rate == 0.0


def test_weighing_refuses_a_diff_of_other_tables(
    baseline_table: DecisionTable, billing_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    diff = diff_tables(baseline_table, fixed_table)
    with pytest.raises(ValueError, match="2023-03-06-billing-fixed"):
        weigh(diff, baseline_table, billing_table, HAND_WRITTEN_LOG, None)
