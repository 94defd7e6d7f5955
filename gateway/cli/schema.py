"""`gw467 schema plan|scenario|suite`: the JSON Schema of a file kind, for editors and CI.

The package ships the same schemas as files (`gateway/data/schemas/KIND.schema.json`), so an
editor can point at one (`#:schema PATH` at the top of a TOML file, for taplo and Even Better
TOML); `--path` prints where they are installed. Both come from the models that validate the
files, and a test keeps the shipped ones equal to them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from gateway.cli.errors import EXIT_OK
from gateway.cli.output import output_path, write_text
from gateway.core import planfile, schemas
from gateway.replay import scenario
from gateway.safety import suite

KINDS: dict[str, Callable[[], dict[str, Any]]] = {
    "plan": planfile.json_schema,
    "scenario": scenario.json_schema,
    "suite": suite.json_schema,
}


def shipped_schema(kind: str) -> Path:
    """The schema file the package ships for `kind` (a regular file once installed)."""
    return Path(str(resources.files("gateway").joinpath("data", "schemas", f"{kind}.schema.json")))


def register(commands: argparse._SubParsersAction[Any]) -> None:
    command = commands.add_parser(
        "schema",
        help="the JSON Schema of a plan, scenario or suite file, for editors (taplo, Even Better TOML)",
        description="Print the JSON Schema (draft-07) of a file kind, or write it with -o. "
        "Put `#:schema PATH` on the first line of a TOML file to have an editor check it.",
    )
    command.add_argument("kind", metavar="KIND", choices=sorted(KINDS), help="plan, scenario or suite")
    where = command.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", metavar="FILE", type=output_path, help="write the schema to FILE")
    where.add_argument(
        "--path", action="store_true", help="print the path of the schema file the package ships instead"
    )
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.path:
        print(shipped_schema(args.kind))
        return EXIT_OK
    text = schemas.schema_text(KINDS[args.kind]())
    if args.output:
        write_text(args.output, text)
        print(f"{args.kind} schema written to {args.output}")
    else:
        print(text, end="")
    return EXIT_OK
