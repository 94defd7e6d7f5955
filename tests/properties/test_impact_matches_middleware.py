"""`gw467 impact` is exact: on DuckDB, for generated plan changes and small logs, its counts are
the middleware's, request by request."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gateway.core.compiler import compile_plan_set
from gateway.impact.clients import ClientMapping
from gateway.impact.duckdb_engine import DuckDBEngine
from gateway.impact.engine import ImpactInput
from gateway.impact.formats import line_format
from gateway.impact.sources import log_files
from gateway.verification import KeyedPlanSet, config_changes, keyed_plan_sets
from gateway.verification.strategies import requests
from tests.impact.reference import outcomes

MINUTE = "2023-03-06T17:00"


@st.composite
def logged_requests(draw: st.DrawFn, keyed: KeyedPlanSet) -> list[tuple[str, str, str]]:
    """(client, method, path) lines, as a log with no keys names them."""
    clients = sorted(keyed.keys)
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        method, path, _ = draw(requests(keyed))
        if path and "?" not in path:
            lines.append((draw(st.sampled_from(clients)), method, path))
    return lines


@given(keyed_plan_sets(), st.data())
def test_impact_counts_equal_the_middlewares_on_every_plan_change(
    keyed: KeyedPlanSet, data: st.DataObject
) -> None:
    """For every generated plan change (the lost-access generators' edits) and every small log,
    the (client, outcome under OLD, outcome under NEW) counts of `gw467 impact` on DuckDB equal
    those of the same requests pushed one by one through EntitlementMiddleware under each plan."""
    what, changed = data.draw(config_changes(keyed.plan_set), label="change")
    lines = data.draw(logged_requests(keyed), label="log")
    old, new = compile_plan_set(keyed.plan_set), compile_plan_set(changed)
    before = outcomes(old, lines, keyed.keys)
    after = outcomes(new, lines, keyed.keys)
    expected = Counter(
        (client, was, now) for (client, _, _), was, now in zip(lines, before, after, strict=True)
    )
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "decisions.log"
        log.write_text(
            "".join(
                json.dumps({"time": f"{MINUTE}:00.000Z", "client": c, "method": m, "path": p}) + "\n"
                for c, m, p in lines
            )
        )
        run = ImpactInput(log_files([str(log)]), line_format("gw467"), ClientMapping(), old, new)
        rows = DuckDBEngine(threads=1).outcomes(run)
    found: Counter[tuple[str | None, str | None, str | None]] = Counter()
    for row in rows:
        assert row.reason is None, (what, row)
        found[(row.client, row.old, row.new)] += row.requests
    assert found == expected, what
