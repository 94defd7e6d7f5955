"""Reading TOML configuration files into pydantic models, with one-line errors.

Plan files and scenario files both come through here, so every malformed file is
reported the same way: `FILE: KEY.PATH: what is wrong`, or `FILE:LINE:COL: ...`
for TOML syntax errors. Every input is bounded: a file larger than `max_input_bytes()`
(16 MiB, or GW467_MAX_INPUT_BYTES) is refused before it is read, and a document nested
deeper than the parser can follow is one line, not a RecursionError.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)

# The largest file any gw467 input may be (plan files, specs, scenarios, suites, logs of
# requests): room for a 100,000-endpoint catalogue. GW467_MAX_INPUT_BYTES raises or lowers it.
DEFAULT_MAX_INPUT_BYTES = 16 << 20
MAX_INPUT_VARIABLE = "GW467_MAX_INPUT_BYTES"
TOO_DEEP = "nested too deeply to read"

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_END = re.compile(r"\s*\(at end of document\)$")


class ConfigError(Exception):
    """A configuration file that cannot be used. `str()` is the one-line message: the first problem,
    and how many more there are; `lines()` is every problem, one line each."""

    def __init__(
        self,
        source: str,
        where: str,
        message: str,
        line: int | None = None,
        column: int = 0,
        more: Sequence[ConfigError] = (),
    ) -> None:
        self.source = source
        self.where = where
        self.message = message
        self.line = line
        self.column = column
        self.more = tuple(more)
        super().__init__(str(self))

    @classmethod
    def of(cls, problems: Sequence[ConfigError]) -> ConfigError:
        """One error for several problems, the first one's fields leading."""
        first, *rest = problems
        return cls(first.source, first.where, first.message, first.line, first.column, (*first.more, *rest))

    def lines(self) -> tuple[str, ...]:
        """Every problem as its own line, in file order."""
        return (self._line(), *(line for problem in self.more for line in problem.lines()))

    def __str__(self) -> str:
        if not self.more:
            return self._line()
        count = len(self.lines()) - 1
        return f"{self._line()} (and {count} more problem{'s' if count > 1 else ''})"

    def _line(self) -> str:
        if self.line is not None and self.where:
            return f"{self.source}:{self.line}: {self.where}: {self.message}"
        if self.line is not None:
            return f"{self.source}:{self.line}:{self.column}: {self.message}"
        if self.where:
            return f"{self.source}: {self.where}: {self.message}"
        return f"{self.source}: {self.message}"


class Problems:
    """A file's problems, gathered so that all are reported at once rather than one per run."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[ConfigError] = []

    def add(self, where: str, message: str) -> None:
        self.found.append(ConfigError(self.source, where, message))

    def raise_any(self) -> None:
        if self.found:
            raise ConfigError.of(self.found)


Fail = Callable[[str, str], ConfigError]


def failure(source: str) -> Fail:
    """A function making ConfigErrors for `source`: `raise fail("key.path", "what is wrong")`."""

    def fail(where: str, message: str) -> ConfigError:
        return ConfigError(source, where, message)

    return fail


def max_input_bytes() -> int:
    """The size bound on every input file: GW467_MAX_INPUT_BYTES, else 16 MiB."""
    value = os.environ.get(MAX_INPUT_VARIABLE, "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_INPUT_BYTES


def read_text(path: str | Path) -> str:
    """The file's text, or ConfigError when it cannot be read, is too large or is not UTF-8."""
    source = str(path)
    limit = max_input_bytes()
    try:
        with Path(path).open("rb") as file:
            raw = file.read(limit + 1)  # a pipe has no size to ask for first
    except FileNotFoundError:
        raise ConfigError(source, "", "no such file") from None
    except IsADirectoryError:
        raise ConfigError(source, "", "is a directory, not a file") from None
    except OSError as error:
        raise ConfigError(source, "", f"cannot read: {error.strerror}") from None
    if len(raw) > limit:
        raise ConfigError(source, "", f"larger than {limit:,} bytes (set {MAX_INPUT_VARIABLE} to raise it)")
    try:
        # utf-8-sig: a byte-order mark, as some editors write, is not an error.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(source, "", f"not UTF-8 text (byte {error.start})") from None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; syntax errors (duplicate keys included) name the line."""
    if not text.strip():
        raise ConfigError(source, "", "file is empty")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        if position:
            message = message[: position.start()]
            line, column = int(position.group(1)), int(position.group(2))
        else:
            message = _TOML_END.sub("", message)
            line, column = text.count("\n") + 1, len(text) - text.rfind("\n")
        if message == "Cannot overwrite a value":
            message += " (a key is defined twice)"
        raise ConfigError(source, "", f"TOML syntax error: {message}", line, column) from None
    except RecursionError:
        raise ConfigError(source, "", f"TOML {TOO_DEEP}") from None
    if not document:
        raise ConfigError(source, "", "file has no keys (only comments or blank lines)")
    return document


def key_path(location: Sequence[int | str], label: Callable[[list[int | str]], str] | None = None) -> str:
    """`('endpoints', 3, 'path')` -> `endpoints[3].path`; `label` may annotate a prefix."""
    parts: list[str] = []
    for index, element in enumerate(location):
        if isinstance(element, int):
            piece = f"[{element}]"
            if label is not None:
                piece += label(list(location[: index + 1]))
            parts.append(piece)
        else:
            parts.append(("." if parts else "") + element)
    return "".join(parts) or "(top level)"


def validate_model(
    model: type[Model],
    document: dict[str, Any],
    source: str,
    label: Callable[[list[int | str]], str] | None = None,
    secret_keys: Collection[str] = (),
    text: str | None = None,
) -> Model:
    """Validate a parsed document; every problem becomes a line of one ConfigError.

    The value of a key named in `secret_keys` (an API key, say) is never shown.
    With the document's `text`, the error also names the line of the key at fault.
    """
    try:
        return model.model_validate(document)
    except ValidationError as error:
        problems = [
            _problem(problem, source, label, secret_keys, text) for problem in error.errors(include_url=False)
        ]
        raise ConfigError.of(problems) from None


def _problem(
    problem: Any,
    source: str,
    label: Callable[[list[int | str]], str] | None,
    secret_keys: Collection[str],
    text: str | None,
) -> ConfigError:
    location = list(problem["loc"])
    # A key inside a secret list (`keys[1]`) is as secret as the list.
    secret = any(part in secret_keys for part in location if isinstance(part, str))
    message = _describe(problem, show_input=not secret)
    if location and location[-1] == "[key]":
        # pydantic's marker for a table whose *name* is invalid: `plans.bad name.[key]`.
        location.pop()
        message = f"invalid table name: {message}"
    line = line_of(text, location) if text is not None else None
    return ConfigError(source, key_path(location, label), message, line)


_HEADER = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def line_of(text: str, location: Sequence[int | str]) -> int | None:
    """The line (1-based) where the key at `location` is written, best effort, or None.

    Understands what hand-written files use: top-level keys, `[table]` and `[[array]]`
    headers (the n-th `[[array]]` block for an index), and `key = ` lines inside them.
    A key that is absent (missing) is placed at the header of its table.
    """
    lines = text.splitlines()
    names = {n: match.group(1) for n, line in enumerate(lines) if (match := _HEADER.match(line))}
    headers = list(names)
    steps = list(location)
    if not steps or not isinstance(steps[0], str):
        return None
    first = str(steps.pop(0))
    blocks = [n for n, name in names.items() if name == first]
    if not blocks:
        return _assignment(lines, first, 0, headers[0] if headers else len(lines))
    index = steps.pop(0) if steps and isinstance(steps[0], int) else 0
    if index >= len(blocks):
        return None
    start = blocks[index]
    end = next((n for n in headers if n > start), len(lines))
    if not steps or not isinstance(steps[0], str):
        return start + 1
    return _assignment(lines, steps[0], start + 1, end) or start + 1


def _assignment(lines: list[str], key: str, start: int, end: int) -> int | None:
    pattern = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
    return next((n + 1 for n in range(start, end) if pattern.match(lines[n])), None)


def _describe(problem: Any, show_input: bool = True) -> str:
    kind = problem["type"]
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        return "unknown key"
    text: str = problem["msg"]
    if show_input and (kind.endswith("_type") or kind in ("literal_error", "string_pattern_mismatch")):
        text += f", got {_show(problem.get('input'))}"
    return text.removeprefix("Value error, ")


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."
