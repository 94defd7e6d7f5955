"""Repeated timings: round-robin scheduling of variants and median/min/max per operation."""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


def round_robin(variants: Sequence[T], reps: int) -> Iterator[tuple[int, T]]:
    """(rep, variant) in the order A1, B1, C1, A2, B2, C2, ... so drift hits every variant alike."""
    for rep in range(1, reps + 1):
        for variant in variants:
            yield rep, variant


@dataclass
class Series:
    """Per-operation times in ns, one per repetition, each the total of a batch over its size."""

    per_op_ns: list[float] = field(default_factory=list)

    def add(self, elapsed_ns: int, operations: int) -> None:
        self.per_op_ns.append(elapsed_ns / operations)

    @property
    def median(self) -> float:
        return statistics.median(self.per_op_ns)

    @property
    def min(self) -> float:
        return min(self.per_op_ns)

    @property
    def max(self) -> float:
        return max(self.per_op_ns)
