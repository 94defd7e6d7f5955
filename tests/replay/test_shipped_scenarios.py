"""The shipped scenarios replayed in full, as the README tells them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.replay.engine import ReplayRecord
from gateway.replay.summary import minute_rows, summarize
from tests.replay.conftest import ShippedReplay, replays

pytestmark = pytest.mark.slow


@pytest.fixture
def outage(shipped_replay: Callable[[str], ShippedReplay]) -> ReplayRecord:
    return shipped_replay("2023-03-06-error-467").record


@replays("2023-03-06-error-467")
def test_2023_replay_sends_over_300000_requests_through_the_gateway(outage: ReplayRecord) -> None:
    assert outage.requests >= 300_000


@replays("2023-03-06-error-467")
def test_2023_first_party_467s_start_at_the_push_and_stop_at_the_rollback(outage: ReplayRecord) -> None:
    with_467 = [row.minute for row in minute_rows(outage) if row.first_party.get("467")]
    assert with_467 == list(range(15, 75))


@replays("2023-03-06-error-467")
def test_2023_every_first_party_class_and_incident_surface_is_hit(outage: ReplayRecord) -> None:
    summary = summarize(outage)
    hit_classes = {c for (m, c, s, status) in outage.counts if status == 467 and outage.classes[c]}
    assert hit_classes == {name for name, first in outage.classes.items() if first}
    for surface in ("links", "media", "tweetdeck", "login", "timeline"):
        assert summary.first_party_failed_by_surface[surface] > 0
    assert summary.impact_minutes == 60
    assert summary.push_to_rollback_minutes == 60


@replays("2023-03-06-fixed")
def test_fixed_replay_has_no_first_party_467(shipped_replay: Callable[[str], ShippedReplay]) -> None:
    summary = summarize(shipped_replay("2023-03-06-fixed").record)
    assert summary.first_party_failed == 0
    assert summary.third_party_467 > 0  # the intended plan denials still happen


@replays("2019-07-11-technically-wrong")
def test_2019_replay_fails_every_class_alike_with_5xx(shipped_replay: Callable[[str], ShippedReplay]) -> None:
    record = shipped_replay("2019-07-11-technically-wrong").record
    rows = minute_rows(record)
    assert all(not row.first_party.get("5xx") for row in rows[:16])
    middle = rows[75]
    assert set(middle.by_class) == set(record.classes)
    for name, kinds in middle.by_class.items():
        assert kinds == {"5xx": kinds["5xx"]}, name
    assert summarize(record).impact_minutes == 119
