"""The documentation site's reference pages, generated from the code so they cannot drift:
the command line from the argparse parsers, the file formats from their JSON Schemas (which
come from the pydantic models), the serving settings from the one settings object.

Each function returns Markdown; the site's hook (docs/hooks/gw467.py) puts it in the page.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from gateway.cli.main import COMMANDS, build_parser
from gateway.cli.schema import KINDS
from gateway.fronts.settings import SETTINGS_FIELDS

# Where the lead's serving settings will live; the reference reads them when they import.
USAGE_COLUMNS = 100  # the project's terminal width


def _cell(text: object) -> str:
    """A value fit for a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: object) -> str:
    return f"`{text}`" if str(text) else ""


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parsers of `parser`'s subcommands, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {choice.dest: choice.help or "" for choice in action._choices_actions}
    return {}


def walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Every parser under `parser` (itself first), with its command words and its one-line help."""
    yield path, parser, ""
    helps = _helps(parser)
    for name, child in subcommands(parser).items():
        for inner_path, inner, text in walk(child, (*path, name)):
            yield inner_path, inner, text or helps.get(name, "")


def _default(action: argparse.Action) -> str:
    if action.default in (None, argparse.SUPPRESS, False) or isinstance(action, argparse._HelpAction):
        return ""
    if isinstance(action.default, list | tuple) and not action.default:
        return ""
    return _code(action.default)


def _argument(action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(f"`{option}`" for option in action.option_strings)
        if action.nargs != 0 and action.metavar != argparse.SUPPRESS:
            metavar = action.metavar or (action.dest.upper() if not action.choices else None)
            if metavar is None and action.choices:
                metavar = "{" + ",".join(str(choice) for choice in action.choices) + "}"
            names += f" `{metavar}`"
        return names
    return f"`{action.metavar or action.dest}`"


@contextmanager
def _terminal_width(columns: int) -> Iterator[None]:
    """argparse wraps usage lines at the terminal's width: fix it, so the page does not depend
    on the terminal that built it."""
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


def cli_reference() -> str:
    """Every command and subcommand of `gw467`, its usage, and a table of its arguments."""
    with _terminal_width(USAGE_COLUMNS):
        return _cli_reference()


def _cli_reference() -> str:
    parser = build_parser()
    unavailable = [
        name for name, text in _helps(parser).items() if name in COMMANDS and text.startswith("(needs gw467[")
    ]
    if unavailable:
        raise RuntimeError(f"the CLI reference needs every command's extra installed: {unavailable}")
    parts: list[str] = []
    for path, command, text in walk(parser):
        title = " ".join(("gw467", *path))
        parts.append(f"### {title}\n")
        if text:
            parts.append(f"{text[0].upper()}{text[1:]}.\n" if not text.endswith(".") else f"{text}\n")
        if command.description and command.description != text:
            parts.append(f"{_cell(command.description)}\n")
        usage = command.format_usage().removeprefix("usage: ").strip()
        parts.append(f"```\n{usage}\n```\n")
        rows = [
            action
            for action in command._actions
            if not isinstance(action, argparse._SubParsersAction) and action.help != argparse.SUPPRESS
        ]
        if rows:
            parts.append("| argument | default | choices | what it does |\n|---|---|---|---|")
            for action in rows:
                choices = ", ".join(_code(choice) for choice in action.choices or ())
                help_text = (action.help or "") % {"default": action.default, "prog": command.prog}
                parts.append(f"| {_argument(action)} | {_default(action)} | {choices} | {_cell(help_text)} |")
            parts.append("")
        sub = subcommands(command)
        if sub:
            parts.append("Subcommands: " + ", ".join(f"`{name}`" for name in sub) + ".\n")
    return "\n".join(parts)


def _type_of(schema: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"table [{schema['$ref'].rsplit('/', 1)[1].lstrip('_')}](#{_anchor(schema['$ref'])})"
    if "anyOf" in schema:
        kinds = [_type_of(option, definitions) for option in schema["anyOf"] if option.get("type") != "null"]
        return " or ".join(kinds)
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}), definitions)}"
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, dict):
            return f"table of {_type_of(values, definitions)}"
        return "table"
    if schema.get("format") == "date-time":
        return "date-time (with a UTC offset)"
    return str(kind)


def _anchor(reference: str) -> str:
    return "table-" + reference.rsplit("/", 1)[1].lstrip("_").lower()


_BOUNDS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
    "minLength": "length >=",
    "maxLength": "length <=",
    "minItems": "items >=",
    "maxItems": "items <=",
    "minProperties": "entries >=",
    "pattern": "matches",
}


def _bounds(schema: dict[str, Any]) -> str:
    found: list[str] = []
    for option in [schema, *schema.get("anyOf", ())]:
        for key, word in _BOUNDS.items():
            if key in option:
                found.append(f"{word} `{option[key]}`")
        items = option.get("items")
        if isinstance(items, dict):
            found += [f"each {bound}" for bound in _bounds(items).split("; ") if bound]
    return "; ".join(found)


def _table_rows(definition: dict[str, Any], definitions: dict[str, Any]) -> list[str]:
    required = set(definition.get("required", ()))
    rows = ["| key | type | required or default | bounds |", "|---|---|---|---|"]
    for key, field in definition.get("properties", {}).items():
        if key in required:
            default = "required"
        elif field.get("default") is None:
            default = "optional"
        else:
            default = _code(json.dumps(field["default"]))
        rows.append(f"| `{key}` | {_type_of(field, definitions)} | {default} | {_cell(_bounds(field))} |")
    return rows


def file_reference(kind: str) -> str:
    """The keys of a file kind, table by table, from its JSON Schema; unknown keys are refused."""
    schema = KINDS[kind]()
    definitions: dict[str, Any] = schema.get("definitions", {})
    roots: Sequence[dict[str, Any]] = schema.get("anyOf", [schema])
    parts = [f"Generated from the model that validates the file (`gw467 schema {kind}`). Every table refuses"]
    parts[0] += " a key it does not list.\n"
    seen: set[str] = set()
    for root in roots:
        name = root["$ref"].rsplit("/", 1)[1] if "$ref" in root else None
        body = definitions[name] if name else schema
        title = "the file" if name is None else f"the file ({name.lstrip('_')})"
        parts.append(f"#### Top level: {title}\n")
        parts += [*_table_rows(body, definitions), ""]
        if name:
            seen.add(name)
    for name, definition in sorted(definitions.items()):
        if name in seen:
            continue
        parts.append(f"#### {name.lstrip('_')} {{ #{_anchor('#/' + name)} }}\n")
        parts += [*_table_rows(definition, definitions), ""]
    return "\n".join(parts)


class SettingsField(Protocol):
    """The shape the settings reference reads: one serving setting, as the settings object
    declares it (None where a setting has no environment variable or no option)."""

    @property
    def name(self) -> str: ...
    @property
    def default(self) -> object: ...
    @property
    def env(self) -> str | None: ...
    @property
    def option(self) -> str | None: ...
    @property
    def doc(self) -> str: ...


def settings_reference(fields: Sequence[SettingsField] = SETTINGS_FIELDS) -> str:
    """The serving settings as a table, one row per field (`gateway.fronts.settings`)."""
    rows = [
        "| setting | default | environment variable | command-line option | what it does |",
        "|---|---|---|---|---|",
    ]
    for field in fields:
        rows.append(
            f"| `{field.name}` | {_code(field.default)} | {_code(field.env or '')} "
            f"| {_code(field.option or '')} | {_cell(field.doc)} |"
        )
    return "\n".join(rows) + "\n"
