"""The decision log: one JSON line per request on the `gw467.decisions` logger.

Each record says when, who (client id and class, never the key or the
Authorization header), what was asked (method, and the path as decided: canonical, no
query string), which endpoint, the rule that decided, the status, the duration and the
plan version in force (its content hash), so any line can be decided again later under
another plan file (`gw467 impact`). The logger follows the standard library's rules: nothing is written
unless the application (or `gw467 serve`) gives it a level of INFO and a handler.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

from gateway.core.decision import DecisionTable
from gateway.core.paths import PathRejected, raw_path_for

DECISIONS = logging.getLogger("gw467.decisions")
OPERATIONS = logging.getLogger("gw467.operations")  # reloads and other events an operator caused


def decision_record(
    at: float,
    client_id: str | None,
    client_class: str | None,
    endpoint: str | None,
    rule: str,
    status: int,
    seconds: float,
    method: str | None = None,
    path: str | None = None,
    plan_version: str | None = None,
) -> dict[str, Any]:
    """The fields of one decision-log line (`at` in seconds since the epoch, on the gateway's clock)."""
    return {
        "time": datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "client": client_id,
        "class": client_class,
        "method": method,
        "path": path,
        "endpoint": endpoint,
        "rule": rule,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "plan_version": plan_version,
    }


def decided_path(table: DecisionTable, method: str, raw_path: str, path: str | None) -> str:
    """The path a decision was taken on, in its one raw spelling (`path`: the decision's own, when
    it forwarded); a path refused as ambiguous is logged as it came, since deciding it again
    refuses it again."""
    if path is None:
        try:
            path = table.routes.route(method, raw_path).path
        except PathRejected:
            return raw_path
    return raw_path_for(path).decode("ascii")


def log_decision(record: dict[str, Any]) -> None:
    """Write one record; handlers get the JSON line as the message and the fields as `record.decision`."""
    DECISIONS.info(json.dumps(record, separators=(",", ":")), extra={"decision": record})


def send_logs_to(stream: IO[str], decisions: bool = True) -> logging.Handler:
    """Write the gateway's own log lines (decisions, when on, and operations) to `stream`, one per line.

    What `gw467 serve` calls at start-up; an application embedding the middleware configures
    `logging` its own way instead. Returns the handler, so a caller can remove it.
    """
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for logger, on in ((DECISIONS, decisions), (OPERATIONS, True)):
        logger.setLevel(logging.INFO if on else logging.WARNING)
        logger.propagate = False  # uvicorn's root configuration would print them a second time
        if on:
            logger.addHandler(handler)
    return handler


@contextmanager
def decisions_written_to(stream: IO[str]) -> Iterator[None]:
    """Write the decision log (only) to `stream` while the block runs: `gw467 replay --log`."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level, propagate = DECISIONS.level, DECISIONS.propagate
    DECISIONS.setLevel(logging.INFO)
    DECISIONS.propagate = False
    DECISIONS.addHandler(handler)
    try:
        yield
    finally:
        DECISIONS.removeHandler(handler)
        DECISIONS.setLevel(level)
        DECISIONS.propagate = propagate
        handler.flush()
