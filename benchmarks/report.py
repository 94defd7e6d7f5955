"""Showing and saving a run: a rich table on stdout and the same figures as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.hot_path_parts import Part
from benchmarks.hot_path_profile import Row
from benchmarks.results import Measurement
from benchmarks.targets import Judgement

# Piped output (make bench | tee) would otherwise wrap at 80 columns.
MIN_WIDTH = 140


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ns/request":
        return f"{value / 1000:,.2f} µs"
    if unit == "ns/decision":
        return f"{value:,.0f} ns"
    if unit == "s":
        return f"{value:,.3f} s"
    if unit == "req/s":
        return f"{value:,.0f}/s"
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


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:,.2f}x"
    if unit == "share":
        return f"{value:.0%}"
    return _amount(value, unit)


def targets_table(judgements: list[Judgement], title: str, caption: str) -> Table:
    result = Table(title=title, caption=caption, title_justify="left")
    result.add_column("target")
    result.add_column("limit", justify="right")
    result.add_column("measured", justify="right")
    result.add_column("per-rep range", justify="right")
    result.add_column("result")
    for judgement in judgements:
        target = judgement.target
        spread = (
            "-"
            if judgement.rep_min is None
            else f"{_figure(judgement.rep_min, target.unit)}-{_figure(judgement.rep_max, target.unit)}"
        )
        result.add_row(
            target.label,
            f"{target.bound} {_figure(target.limit, target.unit)}",
            _figure(judgement.value, target.unit),
            spread,
            {"pass": "pass", "miss": "[bold red]miss[/]"}.get(judgement.result, judgement.result),
        )
    return result


def profile_table(rows: list[Row], by_place: dict[str, float], requests: int) -> Table:
    places = ", ".join(f"{place} {share:.0%}" for place, share in by_place.items())
    result = Table(
        title="where an allowed request's time goes (cProfile, own time)",
        caption=f"{requests:,} allowed requests; by place: {places}",
        title_justify="left",
    )
    result.add_column("function")
    result.add_column("where")
    result.add_column("calls", justify="right")
    result.add_column("own time", justify="right")
    for row in rows:
        result.add_row(row.function, row.where, f"{row.calls:,}", f"{row.own_share:.1%}")
    return result


def parts_table(parts: list[Part], tried: tuple[str, ...]) -> Table:
    """The gateway's parts in nanoseconds and as a share of the bare app's request, with what was tried."""
    request = parts[0].nanoseconds
    result = Table(
        title="where the gateway's own time goes (each part timed alone, as it runs)",
        caption="tried so far: " + "; ".join(tried),
        title_justify="left",
    )
    result.add_column("part")
    result.add_column("per call", justify="right")
    result.add_column("of a bare request", justify="right")
    for part in parts:
        result.add_row(part.name, f"{part.nanoseconds:,.0f} ns", f"{part.nanoseconds / request:.0%}")
    return result


def show(*tables: Table, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        console.width = max(console.width, MIN_WIDTH)
    for shown in tables:
        console.print(shown)


def write_json(
    path: Path, measurements: list[Measurement], judgements: list[Judgement], meta: dict[str, Any]
) -> None:
    document = {
        "meta": meta,
        "measurements": {m.name: asdict(m) for m in measurements},
        "targets": {j.target.name: j.to_json() for j in judgements},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
