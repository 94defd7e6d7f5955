"""The replay in the terminal: a progress bar while it runs, then the timeline and the summary."""

from __future__ import annotations

import asyncio

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from gateway.replay.compare import SLO, Comparison
from gateway.replay.engine import ReplayEngine, ReplayRecord
from gateway.replay.summary import MinuteRow, ReplaySummary, clock_label, failed, minute_rows, summarize
from gateway.terminal.console import compact_table

# The widest class header in the timeline; see short_names.
SHORT_NAME = 5
# The summary's labels, padded so the values line up as they always have.
LABEL_WIDTH = 31
# The first-party SLI's name is 19 characters; its column says this, and the legend the name.
FIRST_PARTY_SLI = "first-party-denials"
SHORT_SLI = "1p-denials"
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
    """The timeline, the events and the summary; every part fits 80 columns, and wrapped text keeps
    its indent."""
    rows = minute_rows(record)
    return Group(
        _timeline(record, rows),
        Text(""),
        _events(record),
        Text(""),
        _summary_panel(record, summarize(record)),
    )


def short_names(names: list[str]) -> dict[str, str]:
    """A column header of at most SHORT_NAME characters for each name: the name itself when it fits,
    else its first letters and a dot, made unique with a digit. A share cell is 4 wide ("100%"), so a
    longer header would widen the table past 80 columns."""
    short: dict[str, str] = {}
    for name in names:
        candidate = name if len(name) <= SHORT_NAME else name[: SHORT_NAME - 1] + "."
        number = 2
        while candidate in short.values():
            candidate = f"{name[: SHORT_NAME - 2]}{number}."
            number += 1
        short[name] = candidate
    return short


def _events(record: ReplayRecord) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for event in record.events:
        what = Text(
            f"{_event_mark(event.action)} {event.action.replace('_', ' ')} -> {event.version}", style="bold"
        )
        what.append(f"  {event.note}  (by {event.by})", style="not bold")
        grid.add_row(f"  {clock_label(record, event.minute)} {record.scenario.timezone}", what)
    if not record.events:
        grid.add_row("  none", "")
    return Group(Text("events", style="bold"), grid)


def _timeline(record: ReplayRecord, rows: list[MinuteRow]) -> Table:
    first_party = [name for name, first in record.classes.items() if first]
    headers = short_names(first_party)
    shortened = ", ".join(f"{short} = {name}" for name, short in headers.items() if short != name)
    legend = (
        "share of each client class's requests failing, minute by minute "
        "([bold red]467[/] [yellow]429[/] [magenta]5xx[/] [cyan]other 4xx[/]; · = none); "
        "3p: third-party classes; 1p req, 1p 467: first-party requests, and their 467s; "
        "▶ push, ◀ rollback (events below)" + (f"; {escape(shortened)}" if shortened else "")
    )
    # The reports' compact table: the 7 classes of the shipped scenarios fit 80 columns.
    table = compact_table(f"{escape(record.scenario.title)}\n{legend}")
    table.add_column(record.scenario.timezone, no_wrap=True)
    table.add_column("min", justify="right", no_wrap=True)
    for name in first_party:
        table.add_column(escape(headers[name]), justify="right", no_wrap=True)
    table.add_column("3p", justify="right", no_wrap=True)
    table.add_column("1p req", justify="right", no_wrap=True)
    table.add_column("1p 467", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for row in rows:
        cells = [_share(row.by_class.get(name, {})) for name in first_party]
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
            Text("".join(_event_mark(event.action) for event in row.events), style="bold"),
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
    """The figures people quote, as label and value; a value too long for the line wraps under
    itself, not under its label."""
    tz = record.scenario.timezone
    lines: list[tuple[str, str]] = [
        (
            "requests through the gateway",
            f"{summary.requests:,} ({summary.first_party_requests:,} first-party, "
            f"{summary.third_party_requests:,} third-party)",
        ),
        (
            "first-party requests failed",
            f"[bold red]{summary.first_party_failed:,}[/] "
            f"({_percent(summary.first_party_failed, summary.first_party_requests)})"
            + "".join(
                f"{', ' if i else ': '}{kind} {n:,}"
                for i, (kind, n) in enumerate(
                    (k, n) for k, n in summary.first_party_by_kind.items() if k != "ok"
                )
            ),
        ),
    ]
    if summary.first_party_failed_by_surface:
        lines.append(
            (
                "  by surface",
                escape(
                    ", ".join(
                        f"{surface} {n:,}" for surface, n in summary.first_party_failed_by_surface.items()
                    )
                ),
            )
        )
    if summary.impact_first_minute is not None and summary.impact_last_minute is not None:
        start = clock_label(record, summary.impact_first_minute)
        end = clock_label(record, summary.impact_last_minute + 1)
        lines.append(("minutes of impact", f"{summary.impact_minutes} ({start} to {end} {escape(tz)})"))
    else:
        lines.append(("minutes of impact", "0 (no minute above the impact threshold)"))
    if summary.push_to_rollback_minutes is not None:
        lines.append(("push to rollback", f"{summary.push_to_rollback_minutes} minutes"))
    else:
        lines.append(("push to rollback", "no rollback"))
    if summary.change_first_minute is not None and summary.change_last_minute is not None:
        window = (
            f"{clock_label(record, summary.change_first_minute)} to "
            f"{clock_label(record, summary.change_last_minute + 1)} {escape(tz)}"
        )
        before = summary.third_party_failure_rate_before_change
        during = summary.third_party_failure_rate_during_change
        lines.append(
            (
                "third-party effect",
                f"failure rate {before:.1%} before the change, {during:.1%} "
                f"while it was in force ({window}); {summary.third_party_467:,} third-party 467s in all",
            )
        )
    else:
        share = _percent(summary.third_party_failed, summary.third_party_requests)
        lines.append(("third-party effect", f"no change pushed; {share} of their requests failed"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, min_width=LABEL_WIDTH)
    grid.add_column()
    for label, value in lines:
        grid.add_row(label, value)
    return Panel(grid, title=escape(f"summary: {record.scenario.name}, seed {record.seed}"), expand=False)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def render_comparison(comparison: Comparison) -> Group:
    """One row per replay: what each safety layer would have saved of the same hour; then who saw the
    problem first, for a fleet how many instances ran the pushed table, and what was in force at the
    end, as a second table (one table would need 200 columns; these two fit 80)."""
    fleet = any(row.instances > 1 for row in comparison.rows)
    legend = (
        "1p failed: first-party requests failed; detect, recover: minutes from the push; "
        f"budget: share of a month's error budget of first-party traffic at a {SLO:.1%} SLO; "
        "3p 467: third-party 467s; 3p fail: their failure rate while the change was in force; "
        f"SLI {SHORT_SLI}: {FIRST_PARTY_SLI}"
    )
    figures = compact_table(
        f"{escape(comparison.title)}\nthe same hour (seed {comparison.seed}) replayed with each safety "
        f"layer (and, for a fleet, its rollouts); {legend}"
    )
    figures.add_column("layer")
    figures.add_column("SLI", no_wrap=True)
    for heading in ("1p failed", "detect", "recover", "budget", "3p 467", "3p fail"):
        figures.add_column(heading, justify="right", no_wrap=True)
    outcomes = compact_table(
        "who saw it first, "
        + ("how many instances there were and how many ran the pushed table, " if fleet else "")
        + "and the plans in force at the end"
    )
    outcomes.add_column("layer")
    outcomes.add_column("SLI", no_wrap=True)
    outcomes.add_column("detected by")
    if fleet:
        outcomes.add_column("inst", justify="right", no_wrap=True)
        outcomes.add_column("ran", justify="right", no_wrap=True)
    outcomes.add_column("in force at the end")
    for row in comparison.rows:
        failed_style = (
            "bold red" if row.first_party_failed > 1000 else ("yellow" if row.first_party_failed else "green")
        )
        sli = SHORT_SLI if row.sli == FIRST_PARTY_SLI else row.sli
        detect = (
            "-"
            if row.minutes_to_detect is None
            else ("<1" if row.minutes_to_detect == 0 else str(row.minutes_to_detect))
        )
        figures.add_row(
            escape(row.layer),
            escape(sli),
            Text(f"{row.first_party_failed:,}", style=failed_style),
            detect,
            str(row.minutes_to_recover),
            Text(f"{row.error_budget_share:.1%}", style="bold red" if row.error_budget_share >= 1 else ""),
            f"{row.third_party_467:,}",
            f"{row.third_party_failure_rate_during_change:.1%}",
        )
        outcomes.add_row(
            escape(row.layer),
            escape(sli),
            escape(row.detected_by or "-"),
            *((str(row.instances), str(row.instances_ran_pushed_table)) if fleet else ()),
            escape(row.in_force_at_end),
        )
    return Group(figures, Text(""), outcomes)
