"""`gw467 test PLAN_FILE [TESTS...]`: run plan test suites on a plan file; exit 1 on a failing case."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.cli.errors import EXIT_BELOW_THRESHOLD, EXIT_FAILED, EXIT_OK
from gateway.cli.output import write_text
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.safety.coverage import CoverageRecorder
from gateway.safety.suite import run_suite, suites_for
from gateway.safety.suite_report import junit_xml, render_runs, totals
from gateway.terminal.console import report_console


def register(commands: argparse._SubParsersAction[Any]) -> None:
    test = commands.add_parser(
        "test",
        help="run expectation files (plans/tests/*.toml) on a plan file; exit 1 when a case fails",
        description=(
            "Run plan test suites on PLAN_FILE: cases (a client or selector x an endpoint id, glob or "
            "'METHOD /path' -> allow, 400, 401, 404, 467, or 429 after N), exact sets ('exactly these "
            "clients reach links.*') and a default for unlisted combinations. Without TESTS, runs the "
            "files of the plan file's sibling tests/ directory that name it in plan_files (or share "
            "its name). Exit 0 when every case passes, 1 when one fails, 2 for a file that cannot be "
            "used, 3 when all pass but coverage is below --coverage-threshold."
        ),
    )
    test.add_argument("plan_file", metavar="PLAN_FILE")
    test.add_argument("tests", nargs="*", metavar="TESTS", help="test files or directories of them")
    test.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML to FILE")
    test.add_argument(
        "--coverage-threshold",
        type=_percent,
        default=0.0,
        metavar="P",
        help="exit 3 when the suites exercise less than P%% of exemptions, grants, plans and endpoints",
    )
    test.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    table = compile_plan_set(load_plan_set(args.plan_file))
    suites = suites_for(args.plan_file, args.tests)
    recorder = CoverageRecorder(table)
    runs = [run_suite(table, suite, recorder) for suite in suites]
    coverage = recorder.report()
    report_console().print(render_runs(table.version, runs, coverage))
    if args.junit:
        write_text(args.junit, junit_xml(table.version, runs, coverage))
    _, failed = totals(runs)
    if failed:
        return EXIT_FAILED
    if coverage.percent < args.coverage_threshold:
        console = report_console()
        console.print(
            f"coverage {coverage.percent:.1f}% is below --coverage-threshold {args.coverage_threshold:g}%"
        )
        return EXIT_BELOW_THRESHOLD
    return EXIT_OK


def _percent(text: str) -> float:
    try:
        value = float(text.removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 100")
    return value
