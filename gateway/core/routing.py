"""Routing a request path to an endpoint: canonicalize it, walk a segment trie, remember the answer.

One trie per method. At each node a segment is tried against the literal child,
then the typed parameters (`int`, `uuid`, `float`), then the `str` parameter,
then a trailing `path` catch-all: the precedence of `gateway.core.templates`, so
a literal beside a parameter wins. A lookup first walks greedily, one node per
segment; only a dead end starts the full depth-first search, which visits the
same children in the same order, so both give the first template in precedence
order. Plan-file validation refuses templates that match the same requests, so
the answer is unique. HEAD falls back to the GET trie when no HEAD endpoint
matches. Routing is a pure function of (method, raw path), so each table
remembers its recent answers (at most ROUTE_MEMORY paths): a hot path is one
dictionary lookup. A non-ASCII segment that would fill a parameter where a sibling literal
stands, and that an upstream normalizing Unicode would read as that literal (U+017F LONG S
for 's' beside `search`), is refused (`lookalike-literal`): the gateway and the app would
disagree on the endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from gateway.core.paths import PathRejected, canonical_segments, join_segments, unicode_folds
from gateway.core.plans import Endpoint
from gateway.core.templates import PATH, TYPED_CONVERTERS, Segment, parse_template

NO_MATCH = -1
# Paths remembered per table; when full the memory is cleared and refills with what is hot.
ROUTE_MEMORY = 8192


class Route(NamedTuple):
    """Where a request path leads: an endpoint index (NO_MATCH for none) and the path to forward."""

    endpoint: int
    path: str


class RouteMatch:
    """The matched endpoint's index, and whether the request spelled a literal differently."""

    __slots__ = ("endpoint", "respelled")

    def __init__(self, endpoint: int, respelled: bool) -> None:
        self.endpoint = endpoint
        self.respelled = respelled


class _Node:
    __slots__ = (
        "catch_all",
        "exact",
        "folded",
        "match",
        "parameter",
        "respelled_catch_all",
        "respelled_match",
        "spellings",
        "typed",
        "typed_by_converter",
    )

    def __init__(self) -> None:
        # `exact` holds a literal's spelling when all templates spell it alike, so a
        # request that uses it needs no rewriting; `folded` holds every literal in
        # lower case, and a match through it means the forwarded path is respelled.
        self.exact: dict[str, _Node] = {}
        self.folded: dict[str, _Node] = {}
        self.spellings: dict[str, set[str]] = {}
        # Typed parameter children in precedence order: (accepts a segment?, child).
        self.typed: tuple[tuple[Callable[[str], object], _Node], ...] = ()
        self.typed_by_converter: dict[str, _Node] = {}
        self.parameter: _Node | None = None
        # Set only where a template ends (or ends in a catch-all hanging here); built
        # once, so a match allocates nothing.
        self.match: RouteMatch | None = None
        self.respelled_match: RouteMatch | None = None
        self.catch_all: RouteMatch | None = None
        self.respelled_catch_all: RouteMatch | None = None

    def add_literal(self, spelling: str) -> _Node:
        folded = spelling.lower()
        child = self.folded.setdefault(folded, _Node())
        spellings = self.spellings.setdefault(folded, set())
        spellings.add(spelling)
        if len(spellings) == 1:
            self.exact[spelling] = child
        else:
            for other in spellings:
                self.exact.pop(other, None)
        return child

    def add_typed(self, converter: str) -> _Node:
        child = self.typed_by_converter.setdefault(converter, _Node())
        self.typed = tuple(
            (TYPED_CONVERTERS[name].fullmatch, self.typed_by_converter[name])
            for name in TYPED_CONVERTERS
            if name in self.typed_by_converter
        )
        return child


class RouteTrie:
    """All endpoint templates of a catalogue, ready for matching."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self._roots: dict[str, _Node] = {}
        self._memory: dict[str, dict[str, Route]] = {}
        self._remembered = 0
        self._templates: list[tuple[Segment, ...]] = []
        for index, endpoint in enumerate(endpoints):
            segments = parse_template(endpoint.path)
            self._templates.append(segments)
            node = self._roots.setdefault(endpoint.method, _Node())
            for segment in segments:
                if segment.converter == PATH:
                    node.catch_all = RouteMatch(index, False)
                    node.respelled_catch_all = RouteMatch(index, True)
                    break
                if segment.converter is None:
                    node = node.add_literal(segment.value)
                elif segment.converter in TYPED_CONVERTERS:
                    node = node.add_typed(segment.converter)
                else:
                    if node.parameter is None:
                        node.parameter = _Node()
                    node = node.parameter
            else:
                node.match = RouteMatch(index, False)
                node.respelled_match = RouteMatch(index, True)

    def route(self, method: str, raw_path: str) -> Route:
        """The route of a raw request path; raises PathRejected for an ambiguous one.

        Routing is a pure function of (method, raw path), so recent answers are
        remembered: a hot path skips canonicalizing and matching altogether.
        """
        remembered = self._memory.get(method)
        if remembered is not None:
            found = remembered.get(raw_path)
            if found is not None:
                return found
        segments = canonical_segments(raw_path)
        match = self.match(method, segments)
        if match is None and method == "HEAD":
            match = self.match("GET", segments)
        if match is None:
            found = Route(NO_MATCH, join_segments(segments))
        elif match.respelled or join_segments(segments) != raw_path:
            found = Route(match.endpoint, join_segments(self.forwarded_segments(match.endpoint, segments)))
        else:
            found = Route(match.endpoint, raw_path)
        if self._remembered >= ROUTE_MEMORY:
            self._memory.clear()
            self._remembered = 0
        self._memory.setdefault(method, {})[raw_path] = found
        self._remembered += 1
        return found

    @property
    def remembered(self) -> int:
        """How many paths are remembered now (at most ROUTE_MEMORY)."""
        return self._remembered

    def match(self, method: str, segments: Sequence[str]) -> RouteMatch | None:
        node = self._roots.get(method)
        if node is None:
            return None
        # The common case first: one step per segment in precedence order, no
        # backtracking. Only when that path dead-ends does the full search run.
        # equivalent mutants: None is as false as False here
        respelled = False  # pragma: no mutate
        for segment in segments:
            child = node.exact.get(segment)
            if child is None:
                child = node.folded.get(segment.lower())
                # Only ASCII folds onto a literal: 'K' (Kelvin sign) lowers to 'k'.
                if child is not None and segment.isascii():
                    respelled = True
                else:
                    if not segment.isascii():
                        _refuse_lookalike(node, segment)
                    child = None
                    for accepts, typed in node.typed:
                        if accepts(segment):
                            child = typed
                            break
                    if child is None:
                        child = node.parameter
                        if child is None:
                            if node.catch_all is not None:
                                return node.respelled_catch_all if respelled else node.catch_all
                            # equivalent mutants: None is as false as False here
                            return _walk(self._roots[method], segments, 0, False)  # pragma: no mutate
            node = child
        if node.match is None:
            # equivalent mutants: None is as false as False here
            return _walk(self._roots[method], segments, 0, False)  # pragma: no mutate
        return node.respelled_match if respelled else node.match

    def forwarded_segments(self, endpoint: int, segments: Sequence[str]) -> list[str]:
        """The request's segments with each literal spelled as the template spells it."""
        fixed, rest = self._split(endpoint, segments)
        forwarded = [part.value if not part.is_parameter else value for part, value in fixed]
        forwarded.extend(rest)
        return forwarded

    def _split(
        self, endpoint: int, segments: Sequence[str]
    ) -> tuple[list[tuple[Segment, str]], Sequence[str]]:
        """(template segment, request segment) pairs, and the segments a trailing catch-all takes;
        raises ValueError when the segments do not fit the template."""
        template = self._templates[endpoint]
        if template and template[-1].converter == PATH:
            head = len(template) - 1
            # equivalent mutants: a guard for a state the trie never builds
            if len(segments) <= head:  # pragma: no mutate
                filled = f"{len(segments)} segments do not fill template {template}"  # pragma: no mutate
                raise ValueError(filled)  # pragma: no mutate
            # equivalent mutants: the lengths are equal by construction; strict only guards that
            pairs = list(zip(template[:head], segments[:head], strict=True))  # pragma: no mutate
            return pairs, segments[head:]
        return list(zip(template, segments, strict=True)), ()  # pragma: no mutate


def _refuse_lookalike(node: _Node, segment: str) -> None:
    """PathRejected when non-ASCII `segment`, read as a Unicode-normalizing upstream reads it,
    is one of `node`'s literals (which it does not match here, so it would fill a parameter)."""
    if node.folded and not node.folded.keys().isdisjoint(unicode_folds(segment)):
        raise PathRejected("lookalike-literal")


def _walk(node: _Node, segments: Sequence[str], depth: int, respelled: bool) -> RouteMatch | None:
    if depth == len(segments):
        return node.respelled_match if respelled else node.match
    segment = segments[depth]
    child = node.exact.get(segment)
    if child is not None:
        found = _walk(child, segments, depth + 1, respelled)
        if found is not None:
            return found
    elif segment.isascii():
        child = node.folded.get(segment.lower())
        if child is not None:
            found = _walk(child, segments, depth + 1, True)
            if found is not None:
                return found
    else:
        _refuse_lookalike(node, segment)
    for accepts, typed in node.typed:
        if accepts(segment):
            found = _walk(typed, segments, depth + 1, respelled)
            if found is not None:
                return found
    if node.parameter is not None:
        found = _walk(node.parameter, segments, depth + 1, respelled)
        if found is not None:
            return found
    return node.respelled_catch_all if respelled else node.catch_all
