"""Path templates such as `/2/tweets/{id}` or `/files/{rest:path}`: grammar, precedence, ambiguity.

A template is a sequence of whole segments, each a literal or a `{name}` parameter
with an optional Starlette converter (`int`, `uuid`, `float`, `str`, or `path`, a
trailing catch-all of one or more segments). Literals are matched
case-insensitively (the gateway forwards the template's own spelling). Where
several templates match a request, the one that ranks first segment by segment
wins: literal, then `int`, `uuid`, `float`, then `str`, then `path`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

LITERAL_SEGMENT = re.compile(r"[A-Za-z0-9_~.\-]+")
PARAMETER_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*))?\}")
MAX_SEGMENTS = 16
STR = "str"
PATH = "path"
# Starlette's converter patterns for one segment, in precedence order; `path` spans segments.
TYPED_CONVERTERS = {
    "int": re.compile(r"[0-9]+"),
    "uuid": re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"),
    "float": re.compile(r"[0-9]+(\.[0-9]+)?"),
}
CONVERTERS = (*TYPED_CONVERTERS, STR, PATH)
LITERAL_RANK = 0


class TemplateError(ValueError):
    """A path template that breaks the grammar; the message says how."""


@dataclass(frozen=True)
class Segment:
    """A literal segment (`value` is its text) or a parameter (`value` is its name).

    `converter` is the parameter's converter (None for a literal).
    """

    value: str
    is_parameter: bool
    converter: str | None = None

    @property
    def folded(self) -> str:
        return self.value.lower()

    @property
    def rank(self) -> int:
        """Precedence among segments at one position: lower ranks are tried first."""
        if self.converter is None:
            return LITERAL_RANK
        return 1 + CONVERTERS.index(self.converter)


# Validation and the route trie each parse every template of a catalogue; the second parse is a
# lookup. Segments are immutable, so sharing them is safe.
@lru_cache(maxsize=1 << 17)
def parse_template(template: str) -> tuple[Segment, ...]:
    """Split a template into segments, or raise TemplateError saying what is wrong."""
    if not template.startswith("/"):
        raise TemplateError(f"path template {template!r} must start with '/'")
    if template == "/":
        return ()
    if template.endswith("/"):
        raise TemplateError(f"path template {template!r} must not end with '/'")
    parts = template[1:].split("/")
    if len(parts) > MAX_SEGMENTS:
        raise TemplateError(f"path template {template!r} has more than {MAX_SEGMENTS} segments")
    segments: list[Segment] = []
    names: set[str] = set()
    for position, part in enumerate(parts):
        if part == "":
            raise TemplateError(f"path template {template!r} has an empty segment ('//')")
        parameter = PARAMETER_SEGMENT.fullmatch(part)
        if parameter:
            name, converter = parameter.group(1), parameter.group(2)
            converter = STR if converter is None else converter
            if name in names:
                raise TemplateError(f"path template {template!r} repeats parameter {{{name}}}")
            if converter not in CONVERTERS:
                raise TemplateError(
                    f"path template {template!r} has unknown converter {converter!r} in {part!r} "
                    f"(converters: {', '.join(CONVERTERS)})"
                )
            if converter == PATH and position != len(parts) - 1:
                raise TemplateError(
                    f"path template {template!r} has {part!r} before its end: a path parameter "
                    "is a catch-all and must be the last segment"
                )
            names.add(name)
            segments.append(Segment(name, is_parameter=True, converter=converter))
        elif part in (".", ".."):
            raise TemplateError(f"path template {template!r} has a dot segment {part!r}")
        elif LITERAL_SEGMENT.fullmatch(part):
            segments.append(Segment(part, is_parameter=False))
        else:
            raise TemplateError(
                f"path template {template!r} has segment {part!r}: a segment is either "
                "{name}, {name:converter} or letters, digits and '-._~'"
            )
    return tuple(segments)


def precedence(segments: tuple[Segment, ...]) -> tuple[int, ...]:
    """The template's rank, segment by segment: of all templates matching a request, the least wins."""
    return tuple(segment.rank for segment in segments)


# What decides whether two templates match the same requests: per segment, its converter and,
# for a literal, its case-folded text.
AmbiguityKey = tuple[tuple[str | None, str | None], ...]


def ambiguity_key(segments: tuple[Segment, ...]) -> AmbiguityKey:
    """Equal for two templates exactly when they match the same requests (`templates_ambiguous`),
    so a catalogue is checked with one dict, not by comparing every pair."""
    return tuple(
        (segment.converter, segment.folded if segment.converter is None else None) for segment in segments
    )


def templates_ambiguous(first: tuple[Segment, ...], second: tuple[Segment, ...]) -> bool:
    """True when the two templates match exactly the same requests, so precedence cannot choose.

    Otherwise precedence always gives one answer: two templates that both match a
    request and rank alike at every position have literals equal wherever either
    has one, and the same converter elsewhere, which is this very condition.
    """
    return ambiguity_key(first) == ambiguity_key(second)


# A value each kind of parameter accepts, plain enough that no catalogue literal is likely to be it.
NEUTRAL_VALUES = {
    "int": "467",
    "uuid": "00000000-0000-0000-0000-000000000467",
    "float": "4.67",
    STR: "gw467-probe",
    PATH: "gw467-probe",
}


def accepts(segment: Segment, value: str) -> bool:
    """Whether one request segment `value` matches `segment` (a `path` tail matches any segment)."""
    if not segment.is_parameter:
        return value.lower() == segment.folded
    pattern = TYPED_CONVERTERS.get(segment.converter or STR)
    return pattern is None or pattern.fullmatch(value) is not None


def neutral_value(segment: Segment) -> str:
    """The literal's own text, or a value the parameter's converter accepts."""
    return NEUTRAL_VALUES[segment.converter or STR] if segment.is_parameter else segment.value


def example_path(template: str) -> str:
    """A concrete path the template matches, each parameter filled with its neutral value."""
    return "/" + "/".join(neutral_value(segment) for segment in parse_template(template))
