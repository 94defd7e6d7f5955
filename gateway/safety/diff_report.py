"""Showing a `GrantDiff`: a table per kind of change, first-party losses first, ending in a
one-line verdict; and the same as a JSON document.
"""

from __future__ import annotations

from dataclasses import asdict
from itertools import groupby

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gateway.safety.access import AccessChange
from gateway.safety.diff import GrantDiff, TrafficWeights
from gateway.terminal.console import compact_table, shown


def verdict(diff: GrantDiff) -> str:
    """One line: does any first-party client lose a grant, and if not, what changes at all."""
    first_party = diff.first_party_losses
    if first_party:
        clients = len({change.client_id for change in first_party})
        losing = "client loses" if clients == 1 else "clients lose"
        grants = _count(len(first_party), "grant")
        surfaces = ", ".join(_first_party_surfaces(diff))
        return f"FIRST-PARTY LOSS: {clients} first-party {losing} {grants} ({surfaces})"
    return (
        f"no first-party loss ({_count(len(diff.losses), 'third-party grant')} lost, "
        f"{len(diff.gains)} gained)"
    )


def render_diff(diff: GrantDiff, weights: TrafficWeights | None = None) -> RenderableType:
    third_party_losses = tuple(change for change in diff.losses if not change.first_party)
    parts: list[RenderableType] = [
        Text.from_markup(
            f"[bold]grant changes {shown(diff.old_version)} → {shown(diff.new_version)}[/]: "
            f"{len(diff.losses)} lost, {len(diff.gains)} gained"
        )
    ]
    sections = (
        ("▼ FIRST-PARTY LOSSES", "bold red", diff.first_party_losses, weights),
        ("third-party losses", "bold yellow", third_party_losses, weights),
        # Gains fail no request, so they get no traffic column.
        ("gains", "bold green", diff.gains, None),
    )
    for title, style, changes, section_weights in sections:
        if changes:
            parts += [Text(""), _section(title, style, changes, section_weights)]
    if not diff.changes:
        parts.append(Text("no client loses or gains any grant"))
    if weights is not None:
        parts.append(Text(_traffic_total(weights)))
    parts.append(Text(verdict(diff), style="bold red" if diff.first_party_losses else "bold green"))
    return Group(*parts)


def _section(
    title: str, style: str, changes: tuple[AccessChange, ...], weights: TrafficWeights | None
) -> Table:
    clients = len({change.client_id for change in changes})
    table = compact_table(
        f"[{style}]{title}[/]: {_count(clients, 'client')}, {_count(len(changes), 'grant')}"
    )
    table.add_column("class", no_wrap=True)
    table.add_column("surface", no_wrap=True)
    table.add_column("client", no_wrap=True)
    # An endpoint id longer than its column folds onto the next line rather than losing its end.
    table.add_column("endpoints", overflow="fold")
    table.add_column("rule before → after", overflow="fold")
    if weights is not None:
        table.add_column("req/min failing", justify="right", no_wrap=True)
    previous_class = None
    # The diff is ordered by class, surface, client, endpoint: one row per client and surface.
    for (client_class, surface, client_id), grouped in groupby(
        changes, key=lambda c: (c.client_class, c.surface, c.client_id)
    ):
        row = tuple(grouped)
        if previous_class is not None and client_class != previous_class:
            table.add_section()
        rules = dict.fromkeys(f"{c.rule_before} → {c.rule_after}" for c in row)
        cells = [
            escape(client_class) if client_class != previous_class else "",
            escape(surface),
            escape(client_id),
            escape(", ".join(c.endpoint_id for c in row)),
            escape("\n".join(rules)),
        ]
        if weights is not None:
            cells.append(_rate(sum(weights.rate(c.client_id, c.endpoint_id) for c in row)))
        table.add_row(*cells)
        previous_class = client_class
    return table


def _traffic_total(weights: TrafficWeights) -> str:
    line = (
        f"traffic: {weights.requests_weighed:,} requests over {weights.minutes:,.1f} min; "
        f"{weights.total_rate:,.1f} req/min would fail "
        f"(first-party {weights.first_party_rate:,.1f}, third-party "
        f"{weights.total_rate - weights.first_party_rate:,.1f})"
    )
    if weights.unknown_to_old or weights.unknown_to_new:
        line += (
            f"; not weighed: {_count(weights.unknown_to_old, 'line')} from clients unknown to OLD, "
            f"{weights.unknown_to_new:,} unknown to NEW"
        )
    return line


def diff_json(diff: GrantDiff, weights: TrafficWeights | None = None) -> dict[str, object]:
    """The diff as a JSON-ready document; the same diff always gives the same keys in the same order."""
    changes: list[dict[str, object]] = []
    for change in diff.changes:
        entry: dict[str, object] = asdict(change)
        if weights is not None:
            entry["failing_per_minute"] = _rounded(weights.rate(change.client_id, change.endpoint_id))
        changes.append(entry)
    return {
        "old_version": diff.old_version,
        "new_version": diff.new_version,
        "first_party_loss": bool(diff.first_party_losses),
        "verdict": verdict(diff),
        "counts": {
            "first_party_losses": len(diff.first_party_losses),
            "third_party_losses": len(diff.losses) - len(diff.first_party_losses),
            "gains": len(diff.gains),
        },
        "first_party_clients_losing": sorted({change.client_id for change in diff.first_party_losses}),
        "first_party_surfaces_lost": list(_first_party_surfaces(diff)),
        "changes": changes,
        "traffic": None if weights is None else _traffic_json(weights),
    }


def _traffic_json(weights: TrafficWeights) -> dict[str, object]:
    return {
        "minutes": weights.minutes,
        "requests_weighed": weights.requests_weighed,
        "requests_failing": weights.requests_failing,
        "failing_per_minute": _rounded(weights.total_rate),
        "first_party_failing_per_minute": _rounded(weights.first_party_rate),
        "unknown_to_old": weights.unknown_to_old,
        "unknown_to_new": weights.unknown_to_new,
        "failing": [
            {"client": client_id, "endpoint": endpoint_id, "per_minute": _rounded(rate)}
            for (client_id, endpoint_id), rate in sorted(weights.rates.items())
        ],
    }


def _first_party_surfaces(diff: GrantDiff) -> tuple[str, ...]:
    """Surfaces where a first-party client loses a grant, in catalogue order where the diff has one."""
    lost = {change.surface for change in diff.first_party_losses}
    in_catalogue = [surface for surface in diff.surfaces if surface in lost]
    return (*in_catalogue, *sorted(lost - set(in_catalogue)))


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _rate(per_minute: float) -> str:
    return f"{per_minute:,.1f}" if per_minute else "[dim]·[/]"


def _rounded(per_minute: float) -> float:
    # Three decimals: enough for any log, and no 33.333333333333336 in the document.
    return round(per_minute, 3)
