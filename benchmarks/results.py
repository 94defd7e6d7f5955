"""What a run produces: one `Measurement` per row, with its ratio to a baseline of the same run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from benchmarks.stats import Series


class HarnessError(RuntimeError):
    """A variant did not behave as the benchmark assumes (so its timing would be meaningless)."""


@dataclass
class Measurement:
    """A row of the report. Timings are ns per operation; info rows carry one `value` in `unit`."""

    name: str
    label: str
    group: str
    unit: str
    median: float
    min: float | None = None
    max: float | None = None
    samples: list[float] = field(default_factory=list)
    baseline: str | None = None
    ratio: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def timing(
        cls, name: str, label: str, group: str, unit: str, series: Series, **details: Any
    ) -> Measurement:
        return cls(
            name=name,
            label=label,
            group=group,
            unit=unit,
            median=series.median,
            min=series.min,
            max=series.max,
            samples=list(series.per_op_ns),
            details=details,
        )

    @classmethod
    def spread(
        cls, name: str, label: str, group: str, unit: str, samples: list[float], **details: Any
    ) -> Measurement:
        """An information row over repetitions (median, min, max), with no baseline."""
        return cls(
            name=name,
            label=label,
            group=group,
            unit=unit,
            median=statistics.median(samples),
            min=min(samples),
            max=max(samples),
            samples=list(samples),
            details=details,
        )

    @classmethod
    def info(cls, name: str, label: str, group: str, unit: str, value: float, **details: Any) -> Measurement:
        return cls(name=name, label=label, group=group, unit=unit, median=value, details=details)


def set_ratios(measurements: list[Measurement], baseline: Measurement) -> None:
    """Give each measurement its median over the baseline's median (the baseline gets 1.0)."""
    for measurement in measurements:
        measurement.baseline = baseline.name
        measurement.ratio = measurement.median / baseline.median
