"""The fixed 2023-03-06 scenario replayed in full: no first-party 467, no alert, no outage.

Every test reads the session's one replay of the hour (`shipped` in conftest.py).
"""

from __future__ import annotations

import pytest

from gateway.replay.summary import summarize
from gateway.replay.terminal import render
from tests.replay.conftest import ShippedReplay
from tests.test_narrow_terminals import assert_fits, rendered

pytestmark = pytest.mark.slow

SCENARIO = "2023-03-06-fixed"


def test_fixed_replay_has_no_first_party_467(shipped: ShippedReplay) -> None:
    summary = summarize(shipped.record)
    assert summary.first_party_failed == 0
    assert summary.third_party_467 > 0  # the intended plan denials still happen


def test_neither_alert_nor_outage_in_the_fixed_replay(shipped: ShippedReplay) -> None:
    for minute, page, kept in shipped.by_minute():
        assert not kept.alert_firing, minute
        assert page["status"] == "operational", minute


@pytest.mark.parametrize("width", (80, 100))
def test_the_fixed_timeline_and_summary_fit_the_terminal(shipped: ShippedReplay, width: int) -> None:
    assert_fits(rendered(render(shipped.record), width), width)
