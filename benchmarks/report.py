"""Showing and saving a run: a rich table on stdout and the same figures as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.results import Measurement

# Piped output (make bench | tee) would otherwise wrap at 80 columns.
MIN_WIDTH = 120


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ns/request":
        return f"{value / 1000:,.2f} µs"
    if unit == "ns/decision":
        return f"{value:,.0f} ns"
    if unit == "s":
        return f"{value:,.3f} s"
    return f"{value:,.1f} {unit}"


def _ratio(measurement: Measurement, by_name: dict[str, Measurement]) -> str:
    if measurement.ratio is None or measurement.baseline is None:
        return "(info)"
    if measurement.baseline == measurement.name:
        return "1.00 (baseline)"
    return f"{measurement.ratio:,.2f}x {by_name[measurement.baseline].label}"


def table(measurements: list[Measurement], title: str, caption: str) -> Table:
    by_name = {m.name: m for m in measurements}
    result = Table(title=title, caption=caption, title_justify="left")
    result.add_column("measurement")
    result.add_column("median", justify="right")
    result.add_column("min", justify="right")
    result.add_column("max", justify="right")
    result.add_column("ratio to its baseline")
    group = None
    for measurement in measurements:
        if group is not None and measurement.group != group:
            result.add_section()
        group = measurement.group
        result.add_row(
            measurement.label,
            _amount(measurement.median, measurement.unit),
            _amount(measurement.min, measurement.unit),
            _amount(measurement.max, measurement.unit),
            _ratio(measurement, by_name),
        )
    return result


def show(measurements: list[Measurement], title: str, caption: str, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        console.width = max(console.width, MIN_WIDTH)
    console.print(table(measurements, title, caption))


def write_json(path: Path, measurements: list[Measurement], meta: dict[str, Any]) -> None:
    document = {"meta": meta, "measurements": {m.name: asdict(m) for m in measurements}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
