"""The impact report: what a plan change would have done to the requests a log holds.

Built from an engine's `OutcomeRow`s: exact counts of requests whose outcome changes (allowed
to a refusal, a refusal to allowed, one refusal to another) by client, class, party, plan,
endpoint and minute, one example request per (client, endpoint) change, the first-party losses
first, and what could not be decided and why. Rendered as a terminal table (100 columns),
JSON, or (`gateway.impact.html`) a web page; the same rows give byte-identical reports.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gateway.core.decision import DecisionTable
from gateway.impact.deciding import ALLOWED
from gateway.impact.engine import OutcomeRow

LOSS, OTHER_REFUSAL, GAIN = "loss", "other-refusal", "gain"
KIND_ORDER = (LOSS, OTHER_REFUSAL, GAIN)
KIND_LABEL = {
    LOSS: "allowed -> refused",
    OTHER_REFUSAL: "refusal -> other refusal",
    GAIN: "refused -> allowed",
}
WIDTH = 100
TERMINAL_ROWS = 20  # changes listed on the terminal; --json holds them all


@dataclass(frozen=True)
class Change:
    """Requests of one client to one endpoint whose outcome changes from `old` to `new`."""

    client: str
    client_class: str
    first_party: bool
    plan: str
    endpoint: str
    old: str
    new: str
    kind: str
    requests: int
    example: str


@dataclass(frozen=True)
class Breakdown:
    """Changed requests under one key (a class, a plan, an endpoint), by kind."""

    key: str
    first_party: bool | None
    lost: int
    other_refusal: int
    gained: int


@dataclass(frozen=True)
class Impact:
    old: str
    new: str
    lines: int
    decided: int
    not_decided: tuple[tuple[str, int], ...]
    changes: tuple[Change, ...]
    by_class: tuple[Breakdown, ...]
    by_plan: tuple[Breakdown, ...]
    by_endpoint: tuple[Breakdown, ...]
    # Changed requests per minute, per class: (class, first party, ((minute, kind, requests), ...)).
    timeline: tuple[tuple[str, bool, tuple[tuple[str, str, int], ...]], ...]
    first_party_refused: int

    @property
    def first_party_loses(self) -> bool:
        return self.first_party_refused > 0


def kind_of(old: str, new: str) -> str | None:
    if old == new:
        return None
    if old == ALLOWED:
        return LOSS
    if new == ALLOWED:
        return GAIN
    return OTHER_REFUSAL


def plan_label(table: DecisionTable) -> str:
    digest = table.digest
    return f"{table.version} ({digest[:12]})" if digest else table.version


def build_impact(rows: Iterable[OutcomeRow], old: DecisionTable, new: DecisionTable) -> Impact:
    """The report of an engine's rows (in any order: everything here is summed and then sorted)."""
    lines = decided = first_party_refused = 0
    not_decided: dict[str, int] = defaultdict(int)
    changes: dict[tuple[str, str, str, str], list[object]] = {}
    parties: dict[str, bool] = {}
    by: dict[str, dict[tuple[str, bool | None], list[int]]] = {"class": {}, "plan": {}, "endpoint": {}}
    minutes: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in rows:
        lines += row.requests
        if row.reason is not None:
            not_decided[row.reason] += row.requests
            continue
        decided += row.requests
        assert row.client is not None and row.old is not None and row.new is not None
        kind = kind_of(row.old, row.new)
        if kind is None:
            continue
        first_party = bool(row.first_party)
        client_class, plan, endpoint = str(row.client_class), str(row.plan), str(row.endpoint)
        parties[client_class] = first_party
        if first_party and kind == LOSS:
            first_party_refused += row.requests
        key = (row.client, endpoint, row.old, row.new)
        found = changes.get(key)
        if found is None:
            changes[key] = [client_class, first_party, plan, row.requests, row.example]
        else:
            found[3] = int(str(found[3])) + row.requests
            found[4] = min(str(found[4]), str(row.example))
        position = KIND_ORDER.index(kind)
        for name, value, party in (
            ("class", client_class, first_party),
            ("plan", plan, None),
            ("endpoint", endpoint, None),
        ):
            counts = by[name].setdefault((value, party), [0, 0, 0])
            counts[position] += row.requests
        minutes[(client_class, str(row.minute), kind)] += row.requests
    listed = sorted(
        (
            Change(client, str(c), bool(fp), str(p), endpoint, o, n, str(kind_of(o, n)), int(str(r)), str(e))
            for (client, endpoint, o, n), (c, fp, p, r, e) in changes.items()
        ),
        key=lambda change: (
            not (change.first_party and change.kind == LOSS),
            KIND_ORDER.index(change.kind),
            not change.first_party,
            -change.requests,
            change.client,
            change.endpoint,
            change.old,
            change.new,
        ),
    )
    timeline = tuple(
        (
            client_class,
            parties[client_class],
            tuple(
                (minute, kind, count)
                for (c, minute, kind), count in sorted(minutes.items())
                if c == client_class
            ),
        )
        for client_class in sorted(parties, key=lambda name: (not parties[name], name))
    )
    return Impact(
        old=plan_label(old),
        new=plan_label(new),
        lines=lines,
        decided=decided,
        not_decided=tuple(sorted(not_decided.items())),
        changes=tuple(listed),
        by_class=_breakdowns(by["class"]),
        by_plan=_breakdowns(by["plan"]),
        by_endpoint=_breakdowns(by["endpoint"]),
        timeline=timeline,
        first_party_refused=first_party_refused,
    )


def _breakdowns(counts: dict[tuple[str, bool | None], list[int]]) -> tuple[Breakdown, ...]:
    ordered = sorted(
        counts.items(), key=lambda item: (item[0][1] is not True, -item[1][0], -sum(item[1]), item[0][0])
    )
    return tuple(Breakdown(key, party, *values) for (key, party), values in ordered)


def first_party_line(impact: Impact) -> str:
    """The gate's figure, as a plain integer at the end of the line."""
    return f"first-party requests that would have been refused: {impact.first_party_refused}"


def impact_json(impact: Impact) -> str:
    document = asdict(impact)
    document["not_decided"] = dict(impact.not_decided)
    document["timeline"] = [
        {
            "class": client_class,
            "first_party": party,
            "minutes": [{"minute": m, "kind": k, "requests": n} for m, k, n in points],
        }
        for client_class, party, points in impact.timeline
    ]
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_impact(impact: Impact) -> RenderableType:
    """The terminal report: the totals, the breakdown by class, the changes (first-party losses
    first), and the gate's line; at most WIDTH columns."""
    undecided = sum(count for _, count in impact.not_decided)
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in impact.not_decided)
    head = Text(
        f"OLD {impact.old}\nNEW {impact.new}\n"
        f"{impact.lines:,} log lines: {impact.decided:,} decided under both plans, "
        f"{undecided:,} not decided{f' ({reasons})' if reasons else ''}"
    )
    parts: list[RenderableType] = [head]
    if impact.changes:
        classes = Table(title="Changed requests by client class", width=WIDTH, title_justify="left")
        for column in ("class", "party", *KIND_LABEL.values()):
            classes.add_column(column, justify="left" if column in ("class", "party") else "right")
        for row in impact.by_class:
            party = "first" if row.first_party else "third"
            classes.add_row(row.key, party, f"{row.lost:,}", f"{row.other_refusal:,}", f"{row.gained:,}")
        parts.append(classes)
        changes = Table(
            title="Changes by client and endpoint, first-party losses first",
            width=WIDTH,
            title_justify="left",
        )
        # Fixed widths (100 columns in all): a long example path is cut, never a count.
        changes.add_column("client", no_wrap=True, overflow="ellipsis", width=19)
        changes.add_column("endpoint", no_wrap=True, overflow="ellipsis", width=21)
        changes.add_column("old -> new", no_wrap=True, width=14)
        changes.add_column("requests", justify="right", no_wrap=True, width=9)
        changes.add_column("example", no_wrap=True, overflow="ellipsis", width=19)
        for change in impact.changes[:TERMINAL_ROWS]:
            party = "" if change.first_party else " (3rd)"
            changes.add_row(
                change.client + party,
                change.endpoint,
                f"{change.old} -> {change.new}",
                f"{change.requests:,}",
                change.example,
            )
        parts.append(changes)
        if len(impact.changes) > TERMINAL_ROWS:
            parts.append(
                Text(f"... and {len(impact.changes) - TERMINAL_ROWS} more (all in --json and --html)")
            )
    else:
        parts.append(Text("No request changes outcome."))
    parts.append(Text(first_party_line(impact), style="bold red" if impact.first_party_loses else "bold"))
    return Group(*parts)
