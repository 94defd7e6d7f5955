"""The 2019-07-11 scenario replayed in full: every class fails alike, with 5xx, for 119 minutes.

The test reads the session's one replay (`shipped` in conftest.py).
"""

from __future__ import annotations

import pytest

from gateway.replay.summary import minute_rows, summarize
from gateway.replay.terminal import render
from tests.replay.conftest import ShippedReplay
from tests.test_narrow_terminals import assert_fits, rendered

pytestmark = pytest.mark.slow

SCENARIO = "2019-07-11-technically-wrong"


def test_2019_replay_fails_every_class_alike_with_5xx(shipped: ShippedReplay) -> None:
    record = shipped.record
    rows = minute_rows(record)
    assert all(not row.first_party.get("5xx") for row in rows[:16])
    middle = rows[75]
    assert set(middle.by_class) == set(record.classes)
    for name, kinds in middle.by_class.items():
        assert kinds == {"5xx": kinds["5xx"]}, name
    assert summarize(record).impact_minutes == 119


@pytest.mark.parametrize("width", (80, 100))
def test_the_2019_timeline_and_summary_fit_the_terminal(shipped: ShippedReplay, width: int) -> None:
    assert_fits(rendered(render(shipped.record), width), width)
