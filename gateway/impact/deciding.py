"""Deciding distinct requests again, under the old and the new plan, in Arrow batches.

Input rows are an engine's distinct requests (`gateway.impact.query.requests_query`); each is
decided by `gateway.core.decision.decide` on the compiled tables, as the authenticated client the
line maps to (logs hold no keys), once per table. A client neither plan knows, and a line whose
time cannot be read, are passed on as not decided, with the reason. The same code runs in this
process (DuckDB) and on Spark's executors (`decide_partition`, given the plan files' texts).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache

import pyarrow as pa

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable, decide
from gateway.core.planfile import parse_plan_set
from gateway.core.plans import Client

ALLOWED = "allowed"
UNKNOWN_CLIENT, BAD_TIME = "unknown-client", "bad-time"
NO_ENDPOINT = "-"
MEMORY = 1 << 20  # distinct requests remembered per worker before the memo starts again
DECIDED_SCHEMA = pa.schema(
    [
        ("reason", pa.string()),
        ("client", pa.string()),
        ("client_class", pa.string()),
        ("first_party", pa.bool_()),
        ("plan", pa.string()),
        ("endpoint", pa.string()),
        ("minute", pa.string()),
        ("old", pa.string()),
        ("new", pa.string()),
        ("example", pa.string()),
        ("requests", pa.int64()),
    ]
)
_SPARK_TYPES = {pa.bool_(): "boolean", pa.int64(): "long", pa.string(): "string"}
SPARK_DECIDED_SCHEMA = ", ".join(f"{field.name} {_SPARK_TYPES[field.type]}" for field in DECIDED_SCHEMA)
# A client named by a log but by neither plan is decided as a caller with a key no plan knows.
# This key is drawn afresh per process: no plan file can hold it.
_UNKNOWN_KEY = b"Bearer gw467-impact-" + secrets.token_hex(16).encode()

Outcome = tuple[str, str | None]  # (outcome, endpoint id)
Decided = tuple[str | None, str | None, bool | None, str | None, str | None, str | None, str | None]


def utc_minute(raw: str) -> str | None:
    """`2023-03-06T17:00+01:00` or `06/Mar/2023:17:00 +0100` as `2023-03-06T16:00Z`; None when
    it is not a time (an ISO time without an offset is taken as UTC)."""
    for shape in ("%Y-%m-%dT%H:%M%z", "%d/%b/%Y:%H:%M %z", "%Y-%m-%dT%H:%M"):
        try:
            moment = datetime.strptime(raw, shape)
        except ValueError:
            continue
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%MZ")
    return None


def outcome_of(table: DecisionTable, client_id: str, method: str, path: str) -> Outcome:
    """What `table` answers `method path` from the client `client_id`, and the endpoint it matched."""
    compiled = table.clients_by_id.get(client_id)
    if compiled is None:
        decision = decide(table, method, path, [_UNKNOWN_KEY])
    else:
        decision = decide(table, method, path, [], client=compiled)
    endpoint = decision.endpoint.id if decision.endpoint is not None else None
    return (ALLOWED if decision.status is None else str(decision.status)), endpoint


class Redecider:
    """Decides distinct requests under `old` and `new`; remembers each (client, method, path)."""

    def __init__(self, old: DecisionTable, new: DecisionTable) -> None:
        self.old = old
        self.new = new
        self._records: dict[str, Client] = {client.id: client for client in new.plan_set.clients}
        self._records.update({client.id: client for client in old.plan_set.clients})
        self._memo: dict[tuple[str, str, str], Decided] = {}
        self._minutes: dict[str, str | None] = {}

    def decide(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        columns: list[list[object]] = [[] for _ in DECIDED_SCHEMA]
        rows = zip(
            *(
                batch.column(name).to_pylist()
                for name in ("reason", "client", "method", "path", "minute_raw")
            ),
            batch.column("requests").to_pylist(),
            strict=True,
        )
        for reason, client, method, path, minute_raw, requests in rows:
            row: tuple[object, ...]
            if reason is not None:
                row = (reason, None, None, None, None, None, None, None, None, None, requests)
            else:
                minute = self._minute(minute_raw)
                decided = self._decided(client, method, path)
                if minute is None:
                    row = (BAD_TIME, None, None, None, None, None, None, None, None, None, requests)
                elif decided[0] is not None:
                    row = (decided[0], None, None, None, None, None, None, None, None, None, requests)
                else:
                    row = (None, client, *decided[1:5], minute, *decided[5:], f"{method} {path}", requests)
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        return pa.RecordBatch.from_arrays(
            [
                pa.array(column, type=field.type)
                for column, field in zip(columns, DECIDED_SCHEMA, strict=True)
            ],
            schema=DECIDED_SCHEMA,
        )

    def _minute(self, raw: str) -> str | None:
        found = self._minutes.get(raw, "")
        if found == "":
            found = self._minutes[raw] = utc_minute(raw)
        return found

    def _decided(self, client: str, method: str, path: str) -> Decided:
        """(reason, class, first party, plan, endpoint, old outcome, new outcome)."""
        key = (client, method, path)
        found = self._memo.get(key)
        if found is not None:
            return found
        record = self._records.get(client)
        if record is None:
            found = (UNKNOWN_CLIENT, None, None, None, None, None, None)
        else:
            old, old_endpoint = outcome_of(self.old, client, method, path)
            new, new_endpoint = outcome_of(self.new, client, method, path)
            endpoint = new_endpoint or old_endpoint or NO_ENDPOINT
            found = (None, record.client_class, record.first_party, record.plan or "-", endpoint, old, new)
        if len(self._memo) >= MEMORY:
            self._memo.clear()
        self._memo[key] = found
        return found


@lru_cache(maxsize=4)
def compiled_table(text: str) -> DecisionTable:
    """A plan file's text compiled (once per worker process)."""
    return compile_plan_set(parse_plan_set(text, "<impact plan>"))


def decide_partition(
    old_text: str, new_text: str, batches: Iterable[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Spark's `mapInArrow` function: the distinct requests of one partition, decided."""
    redecider = Redecider(compiled_table(old_text), compiled_table(new_text))
    for batch in batches:
        yield redecider.decide(batch)
