"""`gw467 explain`: one request's decision, step by step, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from gateway.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from gateway.cli.inputs import PLAN_FILE_HELP, plan_file
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.safety.explain import explain
from gateway.safety.explain_report import explanation_json, render_explanation
from gateway.terminal.console import report_console


def register(commands: argparse._SubParsersAction[Any]) -> None:
    explain_cmd = commands.add_parser("explain", help="show each step of one request's decision")
    explain_cmd.add_argument("--plans", required=True, metavar="FILE", type=plan_file, help=PLAN_FILE_HELP)
    who = explain_cmd.add_mutually_exclusive_group(required=True)
    who.add_argument("--client", metavar="ID", help="decide as this client (skips authentication)")
    who.add_argument("--key", metavar="KEY", help="decide with this API key, as a request would")
    explain_cmd.add_argument("method", metavar="METHOD")
    explain_cmd.add_argument("path", metavar="PATH", help="request path exactly as sent, e.g. /2/links/abc")
    explain_cmd.add_argument("--format", choices=("table", "json"), default="table")
    explain_cmd.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 0 when the gateway forwards the request, 1 when it refuses it (default: always 0)",
    )
    explain_cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    table = compile_plan_set(load_plan_set(args.plans))
    try:
        result = explain(table, args.method, args.path, key=args.key, client_id=args.client)
    except KeyError:
        known = ", ".join(sorted(table.clients_by_id))
        raise UsageError(
            f"gw467 explain: error: --client {args.client!r} is not a client in {args.plans} ({known})"
        ) from None
    code = EXIT_FAILED if args.exit_code and result.decision.status is not None else EXIT_OK
    if args.format == "json":
        print(json.dumps(explanation_json(result), indent=2))
    else:
        report_console().print(render_explanation(result, table.version))
    return code
