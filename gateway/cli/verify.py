"""`gw467 verify OLD NEW`: every invariant on a plan change; exit 1 with the first counterexample."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from gateway.cli.console import report_console
from gateway.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from gateway.cli.inputs import plan_file
from gateway.verification.verify import verify


def register(commands: argparse._SubParsersAction[Any]) -> None:
    verify_cmd = commands.add_parser(
        "verify", help="run every invariant on a change OLD -> NEW; exit 1 with a counterexample"
    )
    verify_cmd.add_argument(
        "old", metavar="OLD", type=plan_file, help="the plan file in force (a path or a shipped name)"
    )
    verify_cmd.add_argument("new", metavar="NEW", type=plan_file, help="the candidate plan file")
    verify_cmd.add_argument(
        "--examples", type=int, default=200, help="Hypothesis examples per property (default: 200)"
    )
    verify_cmd.add_argument("--format", choices=("table", "json"), default="table")
    verify_cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.examples < 1:
        raise UsageError(f"gw467 verify: error: --examples {args.examples} must be at least 1")
    with Console(stderr=True).status("checking invariants..."):
        results = verify(args.old, args.new, examples=args.examples)
    failed = [result for result in results if not result.passed]
    code = EXIT_FAILED if failed else EXIT_OK
    if args.format == "json":
        print(
            json.dumps({"old": args.old, "new": args.new, "checks": [r.__dict__ for r in results]}, indent=2)
        )
        return code
    console = report_console()
    for result in results:
        mark = "[green]ok    [/]" if result.passed else "[bold red]FAILED[/]"
        console.print(f"{mark} {result.name:<28} {escape(result.statement)} [dim]({result.method})[/]")
        if result.counterexample:
            console.print(f"       counterexample: {escape(result.counterexample)}")
    verdict = f"{len(failed)} of {len(results)} invariants broken" if failed else "all invariants hold"
    console.print(f"[bold]{args.old} -> {args.new}: {verdict}[/]")
    return code
