"""Deciding again: times read as UTC minutes, a client decided as itself without its key, a client
no plan knows decided as an unknown key, and the rows a batch of distinct requests becomes."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gateway.core.decision import DecisionTable
from gateway.impact.deciding import (
    ALLOWED,
    BAD_TIME,
    DECIDED_SCHEMA,
    UNKNOWN_CLIENT,
    Redecider,
    outcome_of,
    utc_minute,
)


@pytest.mark.parametrize(
    ("raw", "minute"),
    [
        ("2023-03-06T17:00Z", "2023-03-06T17:00Z"),
        ("2023-03-06T09:00-08:00", "2023-03-06T17:00Z"),
        ("2023-03-06T18:30+0130", "2023-03-06T17:00Z"),
        ("06/Mar/2023:09:00 -0800", "2023-03-06T17:00Z"),
        ("2023-03-06T17:00", "2023-03-06T17:00Z"),
        ("06/Mar/2023:25:00 +0000", None),
        ("yesterday", None),
    ],
)
def test_times_become_utc_minutes(raw: str, minute: str | None) -> None:
    assert utc_minute(raw) == minute


def test_a_client_is_decided_as_itself_and_an_unknown_one_as_a_key_no_plan_holds(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    assert outcome_of(baseline_table, "tco", "GET", "/2/links/t3st") == (ALLOWED, "links.resolve")
    assert outcome_of(billing_table, "tco", "GET", "/2/links/t3st") == ("467", "links.resolve")
    assert outcome_of(billing_table, "ghost", "GET", "/2/links/t3st") == ("401", None)
    assert outcome_of(billing_table, "tco", "GET", "/2/links/%2F") == ("400", None)


def test_a_batch_of_distinct_requests_becomes_decided_rows(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    batch = pa.RecordBatch.from_pydict(
        {
            "reason": [None, None, None, "unparsed"],
            "client": ["tco", "ghost", "web", None],
            "method": ["GET", "GET", "GET", None],
            "path": ["/2/links/t3st", "/2/links/t3st", "/2/tweets/1", None],
            "minute_raw": ["2023-03-06T17:00Z", "2023-03-06T17:00Z", "later", None],
            "requests": [5, 2, 1, 3],
        }
    )
    decided = Redecider(baseline_table, billing_table).decide(batch)
    assert decided.schema == DECIDED_SCHEMA
    rows = decided.to_pylist()
    assert rows[0] == {
        "reason": None,
        "client": "tco",
        "client_class": "tco",
        "first_party": True,
        "plan": "-",
        "endpoint": "links.resolve",
        "minute": "2023-03-06T17:00Z",
        "old": ALLOWED,
        "new": "467",
        "example": "GET /2/links/t3st",
        "requests": 5,
    }
    assert [(row["reason"], row["requests"]) for row in rows[1:]] == [
        (UNKNOWN_CLIENT, 2),
        (BAD_TIME, 1),
        ("unparsed", 3),
    ]
