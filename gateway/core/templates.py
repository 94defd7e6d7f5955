"""Path templates such as `/2/tweets/{id}`: their grammar, parsing and overlap.

A template is a sequence of whole segments, each a literal or a `{name}`
parameter. Literals are matched case-insensitively (the gateway forwards the
template's own spelling), so two templates that differ only in case overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LITERAL_SEGMENT = re.compile(r"[A-Za-z0-9_~.\-]+")
PARAMETER_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_SEGMENTS = 16


class TemplateError(ValueError):
    """A path template that breaks the grammar; the message says how."""


@dataclass(frozen=True)
class Segment:
    """A literal segment (`value` is its text) or a parameter (`value` is its name)."""

    value: str
    is_parameter: bool

    @property
    def folded(self) -> str:
        return self.value.lower()


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
    for part in parts:
        if part == "":
            raise TemplateError(f"path template {template!r} has an empty segment ('//')")
        parameter = PARAMETER_SEGMENT.fullmatch(part)
        if parameter:
            name = parameter.group(1)
            if name in names:
                raise TemplateError(f"path template {template!r} repeats parameter {{{name}}}")
            names.add(name)
            segments.append(Segment(name, is_parameter=True))
        elif part in (".", ".."):
            raise TemplateError(f"path template {template!r} has a dot segment {part!r}")
        elif LITERAL_SEGMENT.fullmatch(part):
            segments.append(Segment(part, is_parameter=False))
        else:
            raise TemplateError(
                f"path template {template!r} has segment {part!r}: a segment is either "
                "{name} or letters, digits and '-._~'"
            )
    return tuple(segments)


def templates_overlap(first: tuple[Segment, ...], second: tuple[Segment, ...]) -> bool:
    """True when some request path matches both templates."""
    if len(first) != len(second):
        return False
    for a, b in zip(first, second, strict=True):
        if a.is_parameter or b.is_parameter:
            continue
        if a.folded != b.folded:
            return False
    return True
