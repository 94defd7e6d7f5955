"""Matching a method and canonical path segments to an endpoint, with a segment trie.

One trie per method. A lookup walks one node per path segment, trying the
literal child before the parameter child, so its cost grows with the number of
segments and not with the number of endpoints. Plan-file validation guarantees
that no two templates of a method overlap, so at most one endpoint can match.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.plans import Endpoint
from gateway.templates import Segment, parse_template

NO_MATCH = -1


class _Node:
    __slots__ = ("endpoint", "exact", "folded", "parameter", "spellings")

    def __init__(self) -> None:
        # `exact` holds a literal's spelling when all templates spell it alike, so a
        # request that uses it needs no rewriting; `folded` holds every literal in
        # lower case, and a match through it means the forwarded path is respelled.
        self.exact: dict[str, _Node] = {}
        self.folded: dict[str, _Node] = {}
        self.spellings: dict[str, set[str]] = {}
        self.parameter: _Node | None = None
        self.endpoint: int = NO_MATCH

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


class RouteMatch:
    """The matched endpoint's index, and whether the request spelled a literal differently."""

    __slots__ = ("endpoint", "respelled")

    def __init__(self, endpoint: int, respelled: bool) -> None:
        self.endpoint = endpoint
        self.respelled = respelled


class RouteTrie:
    """All endpoint templates of a catalogue, ready for matching."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self._roots: dict[str, _Node] = {}
        self._templates: list[tuple[Segment, ...]] = []
        for index, endpoint in enumerate(endpoints):
            segments = parse_template(endpoint.path)
            self._templates.append(segments)
            node = self._roots.setdefault(endpoint.method, _Node())
            for segment in segments:
                if segment.is_parameter:
                    if node.parameter is None:
                        node.parameter = _Node()
                    node = node.parameter
                else:
                    node = node.add_literal(segment.value)
            node.endpoint = index

    def match(self, method: str, segments: Sequence[str]) -> RouteMatch | None:
        root = self._roots.get(method)
        if root is None:
            return None
        return _walk(root, segments, 0, False)

    def forwarded_segments(self, endpoint: int, segments: Sequence[str]) -> list[str]:
        """The request's segments with each literal spelled as the template spells it."""
        return [
            template.value if not template.is_parameter else value
            for template, value in zip(self._templates[endpoint], segments, strict=True)
        ]

    def parameters(self, endpoint: int, segments: Sequence[str]) -> dict[str, str]:
        return {
            template.value: value
            for template, value in zip(self._templates[endpoint], segments, strict=True)
            if template.is_parameter
        }


def _walk(node: _Node, segments: Sequence[str], depth: int, respelled: bool) -> RouteMatch | None:
    if depth == len(segments):
        return RouteMatch(node.endpoint, respelled) if node.endpoint != NO_MATCH else None
    segment = segments[depth]
    child = node.exact.get(segment)
    if child is None:
        child = node.folded.get(segment.lower())
        if child is not None:
            found = _walk(child, segments, depth + 1, True)
            if found is not None:
                return found
    else:
        found = _walk(child, segments, depth + 1, respelled)
        if found is not None:
            return found
    if node.parameter is not None:
        return _walk(node.parameter, segments, depth + 1, respelled)
    return None
