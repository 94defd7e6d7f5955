"""`gw467 impact OLD NEW LOG...`: every logged request decided under both plans; exit 1 when
a first-party client loses any request it had."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from gateway.cli.inputs import PLAN_FILE_HELP, plan_file
from gateway.cli.output import output_with_suffix, write_text
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.impact.clients import ClientMapping, MappingError, load_mapping
from gateway.impact.duckdb_engine import DuckDBEngine
from gateway.impact.engine import Engine, EngineError, ImpactInput
from gateway.impact.formats import FORMATS, GW467, FormatError, line_format
from gateway.impact.html import impact_report
from gateway.impact.report import build_impact, impact_json, render_impact
from gateway.impact.sources import SourceError, log_files
from gateway.impact.spark_engine import SparkEngine, is_spark
from gateway.terminal.console import report_console

DUCKDB = "duckdb"


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add `impact` to a command line's subcommands."""
    impact = commands.add_parser(
        "impact",
        help="decide every logged request under OLD and NEW; exit 1 when a first-party client loses any",
        description=(
            "Read access logs (gw467's decision log, nginx, AWS ALB, Envoy JSON; plain or gzip), "
            "decide every line under OLD and under NEW with the compiled decision the gateway uses, "
            "and count the requests whose outcome changes. Lines that cannot be parsed, or name no "
            "client, are counted as not decided, with the reason. Exit 0 when no first-party request "
            "allowed under OLD is refused under NEW, 1 when one is, 2 on bad input."
        ),
    )
    impact.add_argument("old", metavar="OLD", type=plan_file, help=f"plan in force: {PLAN_FILE_HELP}")
    impact.add_argument(
        "new", metavar="NEW", type=plan_file, help="plan about to ship (a path or a shipped name)"
    )
    impact.add_argument(
        "logs", metavar="LOG", nargs="+", help="log files, directories or globs (plain or gzip)"
    )
    impact.add_argument("--format", choices=FORMATS, default=GW467, help="log format (default: gw467)")
    impact.add_argument(
        "--log-format",
        metavar="TEXT",
        help="nginx log_format string of the log (default: combined)",
    )
    impact.add_argument(
        "--client-field",
        metavar="NAME",
        help="field naming the client: a JSON key (gw467: client; envoy: user_agent), an nginx variable "
        "without $ (remote_user, http_x_client_id, http_user_agent); ALB: user_agent",
    )
    impact.add_argument(
        "--clients",
        metavar="FILE",
        help="TOML mapping of the client field's values to client ids "
        "(field = ...; [[match]] contains = ..., client = ...)",
    )
    impact.add_argument(
        "--engine",
        default=DUCKDB,
        metavar="ENGINE",
        help="duckdb (default, in process), spark (local), local-cluster[...], spark://host:port or sc://host:port",
    )
    impact.add_argument("--json", action="store_true", help="print the report as JSON")
    impact.add_argument(
        "--html", metavar="FILE", type=output_with_suffix(".html"), help="also write a web page"
    )
    impact.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    prefix = "gw467 impact: error:"
    try:
        mapping = load_mapping(args.clients) if args.clients else ClientMapping()
        form = line_format(args.format, args.client_field or mapping.field, args.log_format)
        files = log_files(args.logs)
    except (MappingError, FormatError, SourceError) as error:
        raise UsageError(f"{prefix} {error}") from None
    old = compile_plan_set(load_plan_set(args.old))
    new = compile_plan_set(load_plan_set(args.new))
    engine = choose_engine(args.engine)
    try:
        rows = engine.outcomes(ImpactInput(files, form, mapping, old, new))
    except EngineError as error:
        raise UsageError(f"{prefix} {error}") from None
    impact = build_impact(rows, old, new)
    if args.json:
        print(impact_json(impact), end="")
    else:
        report_console().print(render_impact(impact))
    if args.html:
        write_text(args.html, impact_report(impact))
    return EXIT_FAILED if impact.first_party_loses else EXIT_OK


def choose_engine(name: str) -> Engine:
    if name == DUCKDB:
        return DuckDBEngine()
    if is_spark(name):
        return SparkEngine(name)
    raise UsageError(f"gw467 impact: error: unknown engine {name!r} (duckdb, spark, spark://..., sc://...)")
