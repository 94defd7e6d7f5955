"""Responses per client class by status (2xx/3xx, 429, 467, other), the gate, and the report.

Plain Python, no Locust: the locustfile counts and reports with it, `loadtests.run`
reads the JSON report back and prints it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from gateway.core.rules import StatusKind, status_kind

BUCKETS = ("ok", "429", "467", "other")
EXIT_PASSED = EXIT_OK
EXIT_FIRST_PARTY_467 = EXIT_FAILED
EXIT_NOTHING_MEASURED = EXIT_USAGE  # the run could not measure what it was asked to


_COLUMNS = {StatusKind.OK: "ok", StatusKind.QUOTA: "429", StatusKind.NOT_ENTITLED: "467"}


def bucket(status: int) -> str:
    """The column a status is counted in: its kind, with 5xx, other 4xx and no response at all as 'other'."""
    return _COLUMNS.get(status_kind(status), "other")


class StatusTally:
    """Counts per class label and bucket. On a Locust worker, `drain` hands the counts to the master."""

    def __init__(self) -> None:
        self._counts: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def count(self, label: str, status: int) -> None:
        self._counts[label][bucket(status)] += 1

    def merge(self, counts: Mapping[str, Mapping[str, int]]) -> None:
        for label, buckets in counts.items():
            self._counts[label].update(buckets)

    def drain(self) -> dict[str, dict[str, int]]:
        """The counts since the last drain; worker reports are deltas, so nothing is counted twice."""
        counts = self.snapshot()
        self._counts.clear()
        return counts

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {label: dict(buckets) for label, buckets in self._counts.items()}


@dataclass(frozen=True)
class ClassFigures:
    """One client class's row: its answers by bucket over the run."""

    label: str
    client_id: str
    first_party: bool
    counts: Mapping[str, int]
    seconds: float

    @property
    def requests(self) -> int:
        return sum(self.counts.get(name, 0) for name in BUCKETS)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.label,
            "client": self.client_id,
            "first_party": self.first_party,
            "requests": self.requests,
            **{name: self.counts.get(name, 0) for name in BUCKETS},
            "requests_per_second": round(self.per_second, 2),
        }


@dataclass(frozen=True)
class LoadReport:
    """Every class's figures over one run, and the gate's verdict on them."""

    seconds: float
    classes: tuple[ClassFigures, ...]

    def total(self, first_party: bool) -> dict[str, int]:
        rows = [row for row in self.classes if row.first_party == first_party]
        return {name: sum(row.counts.get(name, 0) for row in rows) for name in BUCKETS}

    @property
    def first_party_467(self) -> int:
        return self.total(first_party=True)["467"]

    @property
    def exit_code(self) -> int:
        """1 when any first-party request got 467 (the gate); 2 when no first-party request was answered."""
        if self.first_party_467:
            return EXIT_FIRST_PARTY_467
        answered = self.total(first_party=True)
        if not (answered["ok"] + answered["429"]):
            # A gateway that answered nothing would otherwise pass the gate.
            return EXIT_NOTHING_MEASURED
        return EXIT_PASSED

    @property
    def verdict(self) -> str:
        if self.exit_code == EXIT_FIRST_PARTY_467:
            return f"FAILED: {self.first_party_467:,} first-party requests answered 467"
        if self.exit_code == EXIT_NOTHING_MEASURED:
            return "NO DATA: no first-party request was answered"
        return "passed: no first-party request answered 467"

    def to_json(self) -> dict[str, Any]:
        requests = sum(row.requests for row in self.classes)
        return {
            "seconds": round(self.seconds, 2),
            "requests": requests,
            "requests_per_second": round(requests / self.seconds, 2) if self.seconds > 0 else 0.0,
            "gate": {
                "first_party_467": self.first_party_467,
                "exit_code": self.exit_code,
                "verdict": self.verdict,
            },
            "first_party": self.total(first_party=True),
            "third_party": self.total(first_party=False),
            "classes": [row.to_json() for row in self.classes],
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> LoadReport:
        seconds = float(document["seconds"])
        rows = tuple(
            ClassFigures(
                row["class"],
                row["client"],
                bool(row["first_party"]),
                {name: int(row[name]) for name in BUCKETS},
                seconds,
            )
            for row in document["classes"]
        )
        return cls(seconds, rows)


def format_table(report: LoadReport) -> str:
    """The per-class table: first-party classes, then third-party apps, each group with its total."""
    header = ("class", "party", "requests", "ok", "429", "467", "other", "req/s")
    lines: list[tuple[str, ...] | None] = [header, None]
    for first_party, name in ((True, "all first-party"), (False, "all third-party")):
        for row in report.classes:
            if row.first_party == first_party:
                lines.append(_line(row.label, first_party, row.counts, report.seconds))
        lines += [None, _line(name, first_party, report.total(first_party), report.seconds), None]
    rows = [line for line in lines if line is not None]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    text = []
    for line in lines[:-1]:
        if line is None:
            text.append(rule)
            continue
        cells = [line[0].ljust(widths[0]), line[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(line[2:], widths[2:], strict=True)]
        text.append("  ".join(cells))
    return "\n".join(text)


def _line(label: str, first_party: bool, counts: Mapping[str, int], seconds: float) -> tuple[str, ...]:
    requests = sum(counts.get(name, 0) for name in BUCKETS)
    rate = requests / seconds if seconds > 0 else 0.0
    return (
        label,
        "1p" if first_party else "3p",
        f"{requests:,}",
        *(f"{counts.get(name, 0):,}" for name in BUCKETS),
        f"{rate:.1f}",
    )
