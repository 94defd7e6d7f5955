"""Lost and gained access between two compiled tables: the one definition every gate uses.

Judged as an operator would, on concrete requests and by `decide()` itself:
- a client *loses* an endpoint of OLD when some request that reached that endpoint
  for that client in OLD (forwarded, not refused) is refused in NEW: because NEW
  denies it, routes it nowhere (the endpoint was removed, or its method or template
  changed), routes it to an endpoint the client may not call, or no longer has the
  client. The client is described as OLD records it: a client that was first-party
  in OLD and loses anything is a first-party loss, whatever NEW says about it.
- a client *gains* an endpoint of NEW in the mirror case, described as NEW records it.
The requests tried for an endpoint are its template filled with neutral values (each
its converter accepts), and, for every template of either catalogue that can match some
of the same requests, a request both match (so a new literal sibling such as `/2/users/me` beside
`/2/users/{id}` is tried too): every way the two tables can route the endpoint's
requests differently, pair by pair, is tried.
`gw467 diff`, `gw467 verify`, `gw467 matrix --against`, the replay's diff gate and
`gateway.verification.no_first_party_regression` all read this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

from gateway.core.decision import CompiledClient, DecisionTable, decide
from gateway.core.plans import Endpoint
from gateway.core.templates import PATH, Segment, accepts, neutral_value, parse_template

LOST: Final = "lost"
GAINED: Final = "gained"
Change = Literal["lost", "gained"]


@dataclass(frozen=True)
class AccessChange:
    """One client's access to one endpoint, forwarded on one side of a change and refused on the other.

    The client and the endpoint are described by the side on which the access existed
    (OLD for a loss, NEW for a gain); `request` is a concrete request that shows it.
    """

    client_id: str
    client_class: str
    first_party: bool
    endpoint_id: str
    surface: str
    method: str
    path: str
    change: Change
    rule_before: str
    rule_after: str
    request: str

    def __str__(self) -> str:
        party = "first-party" if self.first_party else "third-party"
        verb = "loses" if self.change == LOST else "gains"
        return (
            f"{party} client {self.client_id!r} (class {self.client_class}) {verb} "
            f"{self.endpoint_id!r}: {self.rule_before} -> {self.rule_after}"
        )


def access_changes(old: DecisionTable, new: DecisionTable) -> tuple[AccessChange, ...]:
    """Every access lost from OLD to NEW, then every access gained, in catalogue and client order."""
    shapes = _shapes(old, new)
    lost = _changes(old, new, LOST, "client:removed", shapes)
    gained = _changes(new, old, GAINED, "client:absent", shapes)
    return (*lost, *gained)


def lost_access(old: DecisionTable, new: DecisionTable) -> tuple[AccessChange, ...]:
    """Every access some client had in OLD and does not have in NEW."""
    shapes = _shapes(old, new)
    return tuple(_changes(old, new, LOST, "client:removed", shapes))


def first_party_losses(old: DecisionTable, new: DecisionTable) -> tuple[AccessChange, ...]:
    """Every access a client that was first-party in OLD had in OLD and does not have in NEW."""
    return tuple(change for change in lost_access(old, new) if change.first_party)


_ShapeIndex = dict[str, tuple[tuple[Segment, ...], ...]]


def _changes(
    had: DecisionTable, other: DecisionTable, change: Change, missing_rule: str, shapes: _ShapeIndex
) -> Iterator[AccessChange]:
    """Access that `had` gives and `other` does not, described as `had` records it."""
    probes = [
        list(_reaching_probes(had, index, endpoint, shapes)) for index, endpoint in enumerate(had.endpoints)
    ]
    for client in had.clients:
        counterpart = other.clients_by_id.get(client.id)
        for index, endpoint in enumerate(had.endpoints):
            verdict = client.verdicts[index]
            if not verdict.allowed:
                continue
            refusal = _first_refusal(other, counterpart, endpoint.method, probes[index], missing_rule)
            if refusal is None:
                continue
            path, rule_elsewhere = refusal
            before, after = (verdict.rule.text, rule_elsewhere)
            if change == GAINED:
                before, after = after, before
            yield AccessChange(
                client_id=client.id,
                client_class=client.client_class,
                first_party=client.first_party,
                endpoint_id=endpoint.id,
                surface=endpoint.surface,
                method=endpoint.method,
                path=endpoint.path,
                change=change,
                rule_before=before,
                rule_after=after,
                request=f"{endpoint.method} {path}",
            )


def _first_refusal(
    table: DecisionTable, client: CompiledClient | None, method: str, paths: list[str], missing_rule: str
) -> tuple[str, str] | None:
    """The first of `paths` that `table` refuses to `client`, with the rule that refuses it."""
    for path in paths:
        if client is None:
            return path, missing_rule
        decision = decide(table, method, path, [], client=client)
        if decision.status is not None:
            return path, decision.rule.text
    return None


def _reaching_probes(
    table: DecisionTable, index: int, endpoint: Endpoint, shapes: _ShapeIndex
) -> Iterator[str]:
    """Concrete paths that `table` routes to its endpoint `index`: the template filled with
    neutral values, and, for every template of either catalogue with the same method that can
    match some of the same requests, a request both match."""
    segments = parse_template(endpoint.path)
    seen: set[str] = set()
    for other in (None, *shapes.get(endpoint.method, ())):
        parts = _common_request(segments, other)
        if parts is None:
            continue
        path = "/" + "/".join(parts)
        if path not in seen and table.routes.route(endpoint.method, path).endpoint == index:
            seen.add(path)
            yield path


def _common_request(mine: tuple[Segment, ...], theirs: tuple[Segment, ...] | None) -> list[str] | None:
    """The segments of a request matching both templates, or None when no request does; with
    `theirs` None, `mine` filled with neutral values. A trailing `{rest:path}` takes the other
    template's extra segments."""
    if theirs is None:
        neutral = [_value_for(segment, None) for segment in mine]
        filled = [value for value in neutral if value is not None]
        return filled if len(filled) == len(neutral) else None
    mine_tail = bool(mine) and mine[-1].converter == PATH
    their_tail = bool(theirs) and theirs[-1].converter == PATH
    if len(mine) != len(theirs):
        shorter_has_tail = mine_tail if len(mine) < len(theirs) else their_tail
        if not shorter_has_tail:
            return None
    parts: list[str] = []
    for position in range(max(len(mine), len(theirs))):
        value = _value_for(_at(mine, position), _at(theirs, position))
        if value is None:
            return None
        parts.append(value)
    return parts


def _at(segments: tuple[Segment, ...], position: int) -> Segment:
    """The segment that matches `position`: past the end, the trailing catch-all."""
    return segments[position] if position < len(segments) else segments[-1]


def _value_for(mine: Segment, theirs: Segment | None) -> str | None:
    """A segment value both segments accept (`theirs` None: any `mine` accepts), or None."""
    candidates = [neutral_value(mine)]
    if theirs is not None:
        candidates.append(neutral_value(theirs))
    for value in candidates:
        if accepts(mine, value) and (theirs is None or accepts(theirs, value)):
            return value
    return None


def _shapes(*tables: DecisionTable) -> _ShapeIndex:
    """method -> the parsed templates of every catalogue endpoint of that method."""
    found: dict[str, dict[tuple[Segment, ...], None]] = {}
    for table in tables:
        for endpoint in table.endpoints:
            found.setdefault(endpoint.method, {})[parse_template(endpoint.path)] = None
    return {key: tuple(values) for key, values in found.items()}
