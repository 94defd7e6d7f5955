"""The replay in the terminal: a progress bar while it runs, then the timeline and the summary."""

from __future__ import annotations

import asyncio

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from gateway.replay.compare import SLO, Comparison
from gateway.replay.engine import ReplayEngine, ReplayRecord
from gateway.replay.summary import MinuteRow, ReplaySummary, clock_label, failed, minute_rows, summarize

KIND_STYLE = {"467": "bold red", "429": "yellow", "5xx": "magenta", "4xx": "cyan"}


def run_with_progress(engine: ReplayEngine, console: Console) -> ReplayRecord:
    """Run the replay, showing a progress bar over its virtual minutes on `console`."""
    with Progress(
        TextColumn("[bold]replaying[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("virtual minutes"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(engine.scenario.name, total=engine.scenario.minutes)
        return asyncio.run(engine.run(on_minute=lambda _: progress.advance(task)))


def render(record: ReplayRecord) -> Group:
    rows = minute_rows(record)
    return Group(_timeline(record, rows), _events(record), _summary_panel(record, summarize(record)))


def _events(record: ReplayRecord) -> Text:
    text = Text("events\n", style="bold")
    for event in record.events:
        text.append(f"  {clock_label(record, event.minute)} {record.scenario.timezone} ")
        text.append(
            f"{_event_mark(event.action)} {event.action.replace('_', ' ')} -> {event.version}", style="bold"
        )
        text.append(f"  {event.note}  (by {event.by})\n")
    if not record.events:
        text.append("  none\n")
    return text


def _timeline(record: ReplayRecord, rows: list[MinuteRow]) -> Table:
    first_party = [name for name, first in record.classes.items() if first]
    table = Table(
        title=f"{record.scenario.title}\nshare of each client class's requests failing, minute by minute "
        f"([bold red]467[/] [yellow]429[/] [magenta]5xx[/] [cyan]other 4xx[/]; · = none)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        header_style="bold",
    )
    table.add_column(record.scenario.timezone, no_wrap=True)
    table.add_column("min", justify="right")
    for name in first_party:
        table.add_column(name, justify="right")
    table.add_column("3rd-party", justify="right")
    table.add_column("1p requests", justify="right")
    table.add_column("1p 467", justify="right")
    table.add_column("event")
    for row in rows:
        cells = [_share(row.by_class.get(name, {})) for name in first_party]
        events = "; ".join(
            f"{_event_mark(e.action)} {e.action.replace('_', ' ')}: {e.version}" for e in row.events
        )
        table.add_row(
            row.time,
            str(row.minute),
            *cells,
            _share(row.third_party),
            f"{sum(row.first_party.values()):,}",
            Text(
                f"{row.first_party.get('467', 0):,}",
                style="bold red" if row.first_party.get("467") else "dim",
            ),
            Text(events, style="bold"),
        )
    return table


def _share(kinds: dict[str, int]) -> Text:
    total = sum(kinds.values())
    bad = failed(kinds)
    if not total or not bad:
        return Text("·", style="dim")
    worst = max((kind for kind in kinds if kind != "ok"), key=lambda kind: kinds[kind])
    return Text(f"{100 * bad / total:.0f}%", style=KIND_STYLE[worst])


def _event_mark(action: str) -> str:
    return "▶" if action.startswith("push") else "◀"


def _summary_panel(record: ReplayRecord, summary: ReplaySummary) -> Panel:
    tz = record.scenario.timezone
    lines = [
        f"requests through the gateway    {summary.requests:,} "
        f"({summary.first_party_requests:,} first-party, {summary.third_party_requests:,} third-party)",
        f"first-party requests failed     [bold red]{summary.first_party_failed:,}[/] "
        f"({_percent(summary.first_party_failed, summary.first_party_requests)})"
        + "".join(
            f"{', ' if i else ': '}{kind} {n:,}"
            for i, (kind, n) in enumerate((k, n) for k, n in summary.first_party_by_kind.items() if k != "ok")
        ),
    ]
    if summary.first_party_failed_by_surface:
        lines.append(
            "  by surface                    "
            + ", ".join(f"{surface} {n:,}" for surface, n in summary.first_party_failed_by_surface.items())
        )
    if summary.impact_first_minute is not None and summary.impact_last_minute is not None:
        start = clock_label(record, summary.impact_first_minute)
        end = clock_label(record, summary.impact_last_minute + 1)
        lines.append(f"minutes of impact               {summary.impact_minutes} ({start} to {end} {tz})")
    else:
        lines.append("minutes of impact               0 (no minute above the impact threshold)")
    if summary.push_to_rollback_minutes is not None:
        lines.append(f"push to rollback                {summary.push_to_rollback_minutes} minutes")
    else:
        lines.append("push to rollback                no rollback")
    if summary.change_first_minute is not None and summary.change_last_minute is not None:
        window = (
            f"{clock_label(record, summary.change_first_minute)} to "
            f"{clock_label(record, summary.change_last_minute + 1)} {tz}"
        )
        before = summary.third_party_failure_rate_before_change
        during = summary.third_party_failure_rate_during_change
        lines.append(
            f"third-party effect              failure rate {before:.1%} before the change, {during:.1%} "
            f"while it was in force ({window}); {summary.third_party_467:,} third-party 467s in all"
        )
    else:
        share = _percent(summary.third_party_failed, summary.third_party_requests)
        lines.append(f"third-party effect              no change pushed; {share} of their requests failed")
    return Panel("\n".join(lines), title=f"summary: {record.scenario.name}, seed {record.seed}", expand=False)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def render_comparison(comparison: Comparison) -> Table:
    """One row per replay: what each safety layer would have saved of the same hour."""
    table = Table(
        title=f"{comparison.title}\nthe same hour (seed {comparison.seed}) replayed with each safety layer "
        "(and, for a fleet, its rollouts); "
        f"error budget: a month of first-party traffic at a {SLO:.1%} SLO",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        header_style="bold",
    )
    for heading in ("layer", "SLI counts as failed", "1p requests failed", "minutes to detect"):
        table.add_column(heading, justify="left" if heading in ("layer", "SLI counts as failed") else "right")
    for heading in (
        "minutes to recover",
        "month's error budget",
        "3p 467s",
        "3p failing during change",
        "instances",
        "ran the pushed table",
    ):
        table.add_column(heading, justify="right")
    table.add_column("in force at the end")
    for row in comparison.rows:
        failed_style = (
            "bold red" if row.first_party_failed > 1000 else ("yellow" if row.first_party_failed else "green")
        )
        detect = (
            "-"
            if row.minutes_to_detect is None
            else (f"{'<1' if row.minutes_to_detect == 0 else row.minutes_to_detect} ({row.detected_by})")
        )
        table.add_row(
            row.layer,
            row.sli,
            Text(f"{row.first_party_failed:,}", style=failed_style),
            detect,
            str(row.minutes_to_recover),
            Text(f"{row.error_budget_share:.1%}", style="bold red" if row.error_budget_share >= 1 else ""),
            f"{row.third_party_467:,}",
            f"{row.third_party_failure_rate_during_change:.1%}",
            str(row.instances),
            str(row.instances_ran_pushed_table),
            row.in_force_at_end,
        )
    return table
