"""The `gw467` command line: serve, check, explain, matrix.

Every error is one line on stderr (`gw467: error: ...`) with exit code 2; no
command prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table

from gateway import diff_command
from gateway.compiler import compile_plan_set
from gateway.config import ConfigError
from gateway.console import report_console
from gateway.explain import explain
from gateway.matrix import Cell, Matrix, decision_matrix
from gateway.planfile import load_plan_set
from gateway.replay.safety import LAYERS
from gateway.slo import SLI_NAMES
from gateway.usage import UsageError

EXIT_OK = 0
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gw467",
        description="API-gateway entitlement simulator: the Twitter error-467 outage of 2023-03-06.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="run the gateway in front of the demo upstream")
    serve.add_argument("--plans", required=True, metavar="FILE", help="plan file to enforce")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8467, help="port to bind (default: 8467)")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level (default: warning)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (default: 1); metrics are shared through PROMETHEUS_MULTIPROC_DIR",
    )
    serve.add_argument(
        "--sli",
        choices=SLI_NAMES,
        default="first-party-denials",
        help="what counts as a failed request for /_gw467/status and the alert",
    )
    serve.add_argument("--no-metrics", action="store_true", help="do not serve /_gw467/metrics")

    check = commands.add_parser("check", help="validate a plan file: prints ok and a summary, or the error")
    check.add_argument("file", metavar="FILE")

    explain_cmd = commands.add_parser("explain", help="show each step of one request's decision")
    explain_cmd.add_argument("--plans", required=True, metavar="FILE")
    who = explain_cmd.add_mutually_exclusive_group(required=True)
    who.add_argument("--client", metavar="ID", help="decide as this client (skips authentication)")
    who.add_argument("--key", metavar="KEY", help="decide with this API key, as a request would")
    explain_cmd.add_argument("method", metavar="METHOD")
    explain_cmd.add_argument("path", metavar="PATH", help="request path exactly as sent, e.g. /2/links/abc")
    explain_cmd.add_argument("--format", choices=("table", "json"), default="table")

    matrix = commands.add_parser("matrix", help="client x surface decision matrix of a plan file")
    matrix.add_argument("file", metavar="FILE")
    matrix.add_argument("--against", metavar="OTHER", help="mark cells that differ from this plan file")
    matrix.add_argument("--format", choices=("table", "json"), default="table")

    replay = commands.add_parser(
        "replay", help="replay a scenario's hour minute by minute through the real gateway"
    )
    replay.add_argument(
        "scenario", metavar="SCENARIO", help="scenario file, e.g. scenarios/2023-03-06-error-467.toml"
    )
    replay.add_argument("--seed", type=int, help="traffic seed (default: the scenario's)")
    replay.add_argument("--json", metavar="PATH", help="write the full record as JSON")
    replay.add_argument("--chart", metavar="PATH", help="write a PNG chart of error rates by client class")
    replay.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="stdout: timeline table or the JSON record",
    )
    replay.add_argument(
        "--safety",
        choices=LAYERS,
        default="none",
        help="replay with this safety layer in force (default: none, as on 2023-03-06)",
    )
    replay.add_argument(
        "--sli",
        choices=SLI_NAMES,
        default="first-party-denials",
        help="what counts as a failed request for the alert, the status page and the canary "
        "(default: first-party-denials; 5xx is the common dashboard default, blind to 467)",
    )
    replay.add_argument(
        "--compare",
        action="store_true",
        help="replay once per safety layer (canary and alert under both SLIs) and compare",
    )
    verify = commands.add_parser(
        "verify", help="run every invariant on a change OLD -> NEW; exit 1 with a counterexample"
    )
    verify.add_argument("old", metavar="OLD", help="the plan file in force")
    verify.add_argument("new", metavar="NEW", help="the candidate plan file")
    verify.add_argument(
        "--examples", type=int, default=200, help="Hypothesis examples per property (default: 200)"
    )
    verify.add_argument("--format", choices=("table", "json"), default="table")
    diff_command.register(commands)
    diff_command.register_traffic(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        handler = _HANDLERS[args.command]
        return handler(args)
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as error:
        print(f"gw467: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _check(args: argparse.Namespace) -> int:
    plan_set = load_plan_set(args.file)
    compile_plan_set(plan_set)
    first_party = sum(client.first_party for client in plan_set.clients)
    exempt = ", ".join(plan_set.policy.exempt) or "none"
    print(
        f"ok {args.file}: version {plan_set.version}; {len(plan_set.endpoints)} endpoints on "
        f"{len(plan_set.surfaces)} surfaces, {len(plan_set.plans)} plans, {len(plan_set.clients)} "
        f"clients ({first_party} first-party); exempt: {exempt}; "
        f"default plan: {plan_set.policy.default_plan or 'none'}"
    )
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    """Run uvicorn; the admin API is on only when GW467_ADMIN_TOKEN is set in the environment."""
    import os
    import tempfile

    import uvicorn

    from gateway.app import (
        ADMIN_TOKEN_VARIABLE,
        METRICS_VARIABLE,
        PLANS_VARIABLE,
        SLI_VARIABLE,
        build_gateway_app,
    )
    from gateway.metrics import MULTIPROC_DIR_VARIABLE

    if not 0 < args.port < 65536:
        raise UsageError(f"gw467 serve: error: --port {args.port} is not a TCP port")
    if args.workers < 1:
        raise UsageError(f"gw467 serve: error: --workers {args.workers} must be at least 1")
    admin_token = os.environ.get(ADMIN_TOKEN_VARIABLE) or None
    if admin_token and args.workers > 1:
        # Each worker holds its own stage: a push would reach one worker, and the others
        # would go on deciding with the old table. Refuse rather than split the fleet.
        raise UsageError(
            f"gw467 serve: error: the admin API needs one worker ({ADMIN_TOKEN_VARIABLE} is set and "
            f"--workers is {args.workers}): a push would reach only the worker that answered it"
        )
    if args.workers == 1:
        app = build_gateway_app(
            args.plans, sli=args.sli, metrics=not args.no_metrics, admin_token=admin_token
        )
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
        return EXIT_OK
    # Several workers: each imports the factory and reads its settings from the environment.
    # Validate the file here first, so a bad file is one line now rather than N tracebacks.
    load_plan_set(args.plans)
    os.environ[PLANS_VARIABLE] = str(Path(args.plans).resolve())
    os.environ[SLI_VARIABLE] = args.sli
    os.environ[METRICS_VARIABLE] = "0" if args.no_metrics else "1"
    if not args.no_metrics and not os.environ.get(MULTIPROC_DIR_VARIABLE):
        os.environ[MULTIPROC_DIR_VARIABLE] = tempfile.mkdtemp(prefix="gw467-metrics-")
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    table = compile_plan_set(load_plan_set(args.plans))
    try:
        result = explain(table, args.method, args.path, key=args.key, client_id=args.client)
    except KeyError:
        known = ", ".join(sorted(table.clients_by_id))
        raise UsageError(
            f"gw467 explain: error: --client {args.client!r} is not a client in {args.plans} ({known})"
        ) from None
    decision = result.decision
    if args.format == "json":
        print(
            json.dumps(
                {
                    "request": f"{result.method} {result.path}",
                    "steps": [{"step": s.name, "passed": s.passed, "detail": s.detail} for s in result.steps],
                    "status": decision.status,
                    "rule": decision.rule,
                    "forwarded_path": decision.path,
                },
                indent=2,
            )
        )
        return EXIT_OK
    console = report_console()
    console.print(f"[bold]{escape(result.method)} {escape(result.path)}[/] against [bold]{table.version}[/]")
    for number, step in enumerate(result.steps, 1):
        mark = "[green]ok[/]" if step.passed else "[red]no[/]"
        console.print(f"  {number}. {mark}  {step.name:<10} {escape(step.detail)}")
    colour = "green" if decision.status is None else "red"
    forwarded = f" as {escape(decision.path)}" if decision.path else ""
    console.print(f"  => [{colour}]{result.outcome}{forwarded}[/]   rule [bold]{escape(decision.rule)}[/]")
    return EXIT_OK


def _matrix(args: argparse.Namespace) -> int:
    table = compile_plan_set(load_plan_set(args.file))
    against = compile_plan_set(load_plan_set(args.against)) if args.against else None
    matrix = decision_matrix(table, against)
    if args.format == "json":
        print(json.dumps(matrix.to_json(), indent=2))
    else:
        report_console().print(render_matrix(matrix))
    return EXIT_OK


def render_matrix(matrix: Matrix) -> Table:
    title = f"{matrix.version}" + (f"  (changes against {matrix.against} marked)" if matrix.against else "")
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("client", no_wrap=True)
    table.add_column("judged by", no_wrap=True)
    for surface in matrix.surfaces:
        table.add_column(surface, justify="center", no_wrap=True)
    for row in matrix.rows:
        party = "" if row.first_party else " [dim](3p)[/]"
        table.add_row(
            row.client + party,
            escape(row.judged_by),
            *(_cell(row.cells[s]) for s in matrix.surfaces),
        )
    return table


def _cell(cell: Cell) -> str:
    label = cell.label
    colour = {"allow": "green", "467": "bold red", "-": "dim"}.get(label, "yellow")
    marks = ("▼" if cell.lost else "") + ("▲" if cell.gained else "") + ("*" if cell.missing_before else "")
    text = f"[{colour}]{label}[/]"
    return f"{text} [bold magenta]{marks}[/]" if marks else text


def _replay(args: argparse.Namespace) -> int:
    from gateway.replay.engine import ReplayEngine
    from gateway.replay.scenario import load_scenario
    from gateway.replay.summary import record_json
    from gateway.replay.terminal import render, run_with_progress

    if args.compare:
        return _compare(args)
    engine = ReplayEngine(load_scenario(args.scenario), seed=args.seed, safety=args.safety, sli=args.sli)
    record = run_with_progress(engine, Console(stderr=True))
    from gateway.replay.chart import write_chart

    return _publish(
        args, record_json(record), lambda path: write_chart(record, path), render(record), "record"
    )


def _compare(args: argparse.Namespace) -> int:
    from gateway.replay.compare import compare
    from gateway.replay.terminal import render_comparison

    with Console(stderr=True).status("replaying the hour once per safety layer (2 processes)..."):
        comparison = compare(args.scenario, seed=args.seed)
    from gateway.replay.chart import write_comparison_chart

    return _publish(
        args,
        comparison.to_json(),
        lambda path: write_comparison_chart(comparison, path),
        render_comparison(comparison),
        "comparison",
    )


def _publish(
    args: argparse.Namespace,
    document: dict[str, Any],
    write_chart: Callable[[str], None],
    renderable: RenderableType,
    what: str,
) -> int:
    """Write the JSON (--json) and the chart (--chart); print the table, or the JSON with --format json."""
    text = json.dumps(document, indent=1) + "\n"
    if args.json:
        _write(args.json, text)
    if args.chart:
        write_chart(args.chart)
    if args.format == "json":
        sys.stdout.write(text)
        return EXIT_OK
    console = report_console()
    console.print(renderable)
    for label, path in ((what, args.json), ("chart", args.chart)):
        if path:
            console.print(f"{label} written to {path}")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    from gateway.verify import verify

    if args.examples < 1:
        raise UsageError(f"gw467 verify: error: --examples {args.examples} must be at least 1")
    with Console(stderr=True).status("checking invariants..."):
        results = verify(args.old, args.new, examples=args.examples)
    failed = [result for result in results if not result.passed]
    if args.format == "json":
        print(
            json.dumps({"old": args.old, "new": args.new, "checks": [r.__dict__ for r in results]}, indent=2)
        )
        return 1 if failed else EXIT_OK
    console = report_console()
    for result in results:
        mark = "[green]ok    [/]" if result.passed else "[bold red]FAILED[/]"
        console.print(f"{mark} {result.name:<28} {escape(result.statement)} [dim]({result.method})[/]")
        if result.counterexample:
            console.print(f"       counterexample: {escape(result.counterexample)}")
    verdict = f"{len(failed)} of {len(results)} invariants broken" if failed else "all invariants hold"
    console.print(f"[bold]{args.old} -> {args.new}: {verdict}[/]")
    return 1 if failed else EXIT_OK


def _write(path: str, text: str) -> None:
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError as error:
        raise UsageError(f"gw467: error: cannot write {path}: {error.strerror}") from None


_HANDLERS = {
    "serve": _serve,
    "check": _check,
    "explain": _explain,
    "matrix": _matrix,
    "replay": _replay,
    "verify": _verify,
    "diff": diff_command.run,
    "traffic": diff_command.run_traffic,
}


if __name__ == "__main__":
    sys.exit(main())
