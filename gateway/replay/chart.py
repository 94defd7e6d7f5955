"""The replay as a PNG: error rate by client class over time, and first-party outcomes per minute.

Top panel: the share of each client class's requests failing, minute by minute
(third-party apps together, dashed). Bottom panel: first-party requests per
minute stacked by outcome (ok, 467, 429, 5xx, other 4xx). Events are marked
on both: pushes in red, rollbacks in green.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from gateway.replay.compare import Comparison, failure_share_by_minute
from gateway.replay.engine import ReplayRecord
from gateway.replay.summary import KINDS, clock_label, failed, minute_rows

KIND_COLOURS = {"ok": "#4caf50", "467": "#d62728", "429": "#ffb300", "5xx": "#8e24aa", "4xx": "#00acc1"}


def _pyplot() -> ModuleType:
    """matplotlib's pyplot on the Agg backend, imported when a chart is drawn: importing it takes
    about a second, which every gw467 command would pay at start-up (its parser lists them all)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


def write_chart(record: ReplayRecord, path: str | Path) -> None:
    rows = minute_rows(record)
    minutes = [row.minute for row in rows]
    plt = _pyplot()
    figure, (rates, outcomes) = plt.subplots(
        2, 1, figsize=(12, 7.5), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    # A step per minute, closed at the end of the last minute.
    edges = [*minutes, len(minutes)]
    for name in (name for name, first in record.classes.items() if first):
        values = [100 * _rate(row.by_class.get(name, {})) for row in rows]
        rates.step(
            edges,
            [*values, values[-1]],
            where="post",
            label=name,
            linewidth=1.5,
        )
    third = [100 * _rate(row.third_party) for row in rows]
    rates.step(
        edges,
        [*third, third[-1]],
        where="post",
        label="third-party apps",
        color="black",
        linestyle="--",
        linewidth=1.3,
    )
    rates.set_ylim(-2, 112)
    rates.set_ylabel("requests failing (%)")
    rates.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, title="client class")
    rates.set_title(
        f"{record.scenario.title}\nseed {record.seed}, {record.requests:,} requests through the gateway",
        fontsize=10,
    )

    bottom = [0] * len(rows)
    for kind in KINDS:
        heights = [row.first_party.get(kind, 0) for row in rows]
        if not any(heights):
            continue
        outcomes.bar(
            minutes, heights, width=1.0, align="edge", bottom=bottom, color=KIND_COLOURS[kind], label=kind
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    outcomes.set_ylabel("first-party requests / min")
    outcomes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, title="outcome")

    for axes in (rates, outcomes):
        for event in record.events:
            colour = "crimson" if event.action.startswith("push") else "seagreen"
            axes.axvline(event.minute, color=colour, linestyle=":", linewidth=1.6)
        axes.grid(alpha=0.3)
    for event in record.events:
        kind = "push" if event.action.startswith("push") else "rollback"
        rates.annotate(
            f"{kind}: {event.version}",
            xy=(event.minute, 106),
            xytext=(4, 0),
            textcoords="offset points",
            fontsize=8,
            color="crimson" if kind == "push" else "seagreen",
        )
    step = 15 if len(minutes) >= 60 else 5
    ticks = list(range(0, len(minutes) + 1, step))
    outcomes.set_xticks(ticks, [clock_label(record, tick) for tick in ticks])
    outcomes.set_xlim(0, len(minutes))
    outcomes.set_xlabel(f"virtual time ({record.scenario.timezone})")
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


def _rate(kinds: dict[str, int]) -> float:
    total = sum(kinds.values())
    return failed(kinds) / total if total else 0.0


def write_comparison_chart(comparison: Comparison, path: str | Path) -> None:
    """Left: first-party requests failed per layer. Right: the first-party failure share over time."""
    plt = _pyplot()
    figure, (bars, lines) = plt.subplots(
        1, 2, figsize=(14, 5.5), dpi=110, gridspec_kw={"width_ratios": [2, 3]}
    )
    labels = [row.layer if row.sli == "-" else f"{row.layer}\n({row.sli})" for row in comparison.rows]
    values = [row.first_party_failed for row in comparison.rows]
    colours = ["#d62728" if v > 1000 else ("#ffb300" if v else "#4caf50") for v in values]
    positions = list(range(len(values)))
    bars.barh(positions, values, color=colours)
    bars.set_yticks(positions, labels, fontsize=8)
    bars.invert_yaxis()
    for position, value, row in zip(positions, values, comparison.rows, strict=True):
        ran = f"; ran on {row.instances_ran_pushed_table} of {row.instances}" if row.instances > 1 else ""
        bars.annotate(
            f"{value:,}  ({row.minutes_to_recover} min{ran})",
            xy=(value, position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    bars.set_xlabel("first-party requests failed (minutes to recover; fleet: instances that ran the push)")
    bars.set_xlim(0, max([*values, 1]) * 1.45)
    bars.grid(axis="x", alpha=0.3)

    for record, label in zip(comparison.records, labels, strict=True):
        share = failure_share_by_minute(record)
        lines.step(
            [*range(len(share)), len(share)],
            [*(100 * s for s in share), 100 * share[-1]],
            where="post",
            label=label.replace("\n", " "),
            linewidth=1.4,
        )
    first = comparison.records[0]
    for event in first.scenario.events:
        lines.axvline(event.minute, color="grey", linestyle=":", linewidth=1.2)
    step = 15 if first.scenario.minutes >= 60 else 5
    ticks = list(range(0, first.scenario.minutes + 1, step))
    lines.set_xticks(ticks, [clock_label(first, tick) for tick in ticks])
    lines.set_xlim(0, first.scenario.minutes)
    lines.set_ylim(-2, 105)
    lines.set_ylabel("first-party requests failing (%)")
    lines.set_xlabel(f"virtual time ({first.scenario.timezone}); dotted: the scenario's push and rollback")
    lines.legend(fontsize=7, loc="upper right")
    lines.grid(alpha=0.3)
    figure.suptitle(f"{comparison.title}: each safety layer, replayed (seed {comparison.seed})", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)
