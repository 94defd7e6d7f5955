"""The engine interface: an impact run's input, and the one operation every engine offers.

An engine reads the log files, collapses lines to distinct requests with counts, has them
decided (`gateway.impact.deciding`) where the data is, and returns the decided counts summed
per breakdown (`gateway.impact.query.outcomes_query`), as `OutcomeRow`s. Chosen once, by name:
`duckdb` (in process, the default), `spark` (local), `spark://host:port` or `sc://host:port`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from gateway.core.decision import DecisionTable
from gateway.impact.clients import ClientMapping
from gateway.impact.formats import LineFormat
from gateway.impact.sources import LogFile


class EngineError(RuntimeError):
    """The engine could not run (missing extra, unreachable cluster, unreadable input): one line."""


@dataclass(frozen=True)
class ImpactInput:
    """What to read and what to decide it under."""

    files: tuple[LogFile, ...]
    form: LineFormat
    mapping: ClientMapping
    old: DecisionTable
    new: DecisionTable


class OutcomeRow(NamedTuple):
    """Requests with the same reason, client, breakdown, minute and old/new outcome; `example`
    is the smallest `METHOD path` among them. All but `requests` are None for a reason's row."""

    reason: str | None
    client: str | None
    client_class: str | None
    first_party: bool | None
    plan: str | None
    endpoint: str | None
    minute: str | None
    old: str | None
    new: str | None
    example: str | None
    requests: int


class Engine(Protocol):
    name: str

    def outcomes(self, run: ImpactInput) -> list[OutcomeRow]: ...


def as_rows(records: list[tuple[Any, ...]]) -> list[OutcomeRow]:
    """Engine rows as OutcomeRows, sorted, so both engines hand the report the same list."""
    rows = [OutcomeRow._make((*record[:-1], int(record[-1]))) for record in records]
    return sorted(
        rows, key=lambda row: tuple((value is None, 0 if value is None else value) for value in row)
    )
