"""Showing and saving a run: a rich table on stdout, the same figures as JSON, and that JSON
rendered as Markdown for the documentation site's performance page (`markdown`)."""

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


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _measured_ratio(row: dict[str, Any], rows: dict[str, dict[str, Any]]) -> str:
    if row.get("ratio") is None or row.get("baseline") is None:
        return "(info)"
    if row["baseline"] == row["name"]:
        return "1.00 (baseline)"
    return f"{row['ratio']:,.2f}x {_cell(rows[row['baseline']]['label'])}"


def markdown(document: dict[str, Any], source: str) -> str:
    """A run written by `write_json` as Markdown: where it ran, every measurement by group with
    its ratio, and the targets; `source` names the file, for the reader to find it."""
    meta = document["meta"]
    settings = meta.get("settings", {})
    compiled = meta.get("compiled_modules") or []
    code = f"the hot path compiled by mypyc ({len(compiled)} modules)" if compiled else "the Python sources"
    lines = [
        f"Measured by `python -m benchmarks --groups {','.join(settings.get('groups', []))} "
        f"--reps {settings.get('reps')}` on {meta.get('started', 'an unknown date')}, "
        f"from `{source}`:",
        "",
        "| the run | |",
        "|---|---|",
        f"| commit | `{meta.get('commit', 'not recorded')}` |",
        f"| machine | {_cell(meta.get('processor', 'not recorded'))}, {meta.get('cpus')} CPUs, "
        f"{meta.get('machine')}, {_cell(meta.get('system', ''))} (host `{meta.get('host', '?')}`) |",
        f"| software | Python {meta.get('python')}, Starlette {meta.get('starlette')}, "
        f"uvicorn {meta.get('uvicorn')}; {code} |",
        f"| the whole run | {_amount(meta.get('wall_seconds'), 's')} |",
        "",
    ]
    rows: dict[str, dict[str, Any]] = document["measurements"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows.values():
        groups.setdefault(row["group"], []).append(row)
    for group, members in groups.items():
        lines += [
            f"#### Group `{group}`",
            "",
            "| measurement | median | min | max | ratio to its baseline |",
            "|---|---:|---:|---:|---|",
        ]
        for row in members:
            lines.append(
                f"| {_cell(row['label'])} | {_amount(row['median'], row['unit'])} "
                f"| {_amount(row.get('min'), row['unit'])} | {_amount(row.get('max'), row['unit'])} "
                f"| {_measured_ratio(row, rows)} |"
            )
        lines.append("")
    lines += [
        "#### Targets",
        "",
        "A miss is reported, never asserted; n/a: a group the run left out.",
        "",
        "| target | limit | measured | per-rep range | result |",
        "|---|---:|---:|---:|---|",
    ]
    for target in document["targets"].values():
        unit = target["unit"]
        spread = (
            "-"
            if target.get("rep_min") is None
            else f"{_figure(target['rep_min'], unit)}-{_figure(target['rep_max'], unit)}"
        )
        lines.append(
            f"| {_cell(target['label'])} | {target['bound']} {_figure(target['limit'], unit)} "
            f"| {_figure(target.get('value'), unit)} | {spread} | {target['result']} |"
        )
    lines.append("")
    profile = meta.get("profile")
    if profile:
        lines += [
            "#### Where an allowed request's time goes (cProfile, own time)",
            "",
            "| where | share |",
            "|---|---:|",
            *(f"| {_cell(place)} | {share:.0%} |" for place, share in profile["by_place"].items()),
            "",
            "| part of the gateway, timed one by one | per call |",
            "|---|---:|",
            *(f"| {_cell(name)} | {value:,.0f} ns |" for name, value in profile["parts_ns"].items()),
            "",
            "Tried so far on the hot path:",
            "",
            *(f"- {_cell(step)}" for step in profile.get("tried", ())),
            "",
        ]
    return "\n".join(lines)
