"""Showing plan test runs: a results table, the first failing case, coverage, and JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gateway.safety.coverage import KINDS, Coverage
from gateway.safety.suite import Result, SuiteRun
from gateway.terminal.console import compact_table, shown
from gateway.terminal.printable import printable

SHOWN_FAILURES = 3
SHOWN_MISSED = 8


def locate(result: Result) -> str:
    """`file:line where`, as an editor jumps to it."""
    line = f":{result.line}" if result.line is not None else ""
    return f"{result.suite}{line} {result.where}"


def first_failure(runs: Sequence[SuiteRun]) -> Result | None:
    return next((result for run in runs for result in run.failed), None)


def totals(runs: Sequence[SuiteRun]) -> tuple[int, int]:
    """(passed, failed) over every case, exact set and default of the runs."""
    results = [result for run in runs for result in run.results]
    failed = sum(not result.passed for result in results)
    return len(results) - failed, failed


def render_runs(version: str, runs: Sequence[SuiteRun], coverage: Coverage) -> RenderableType:
    """A table per test file: each case's result, line, name and decisions checked, and under the
    name of a failing case its first failure; the widest part wraps, so 80 columns hold it."""
    parts: list[RenderableType] = [
        Text.from_markup(
            f"[bold]gw467 test {shown(version)}[/]: {len(runs)} test file{'s' if len(runs) != 1 else ''}"
        )
    ]
    for run in runs:
        table = compact_table(shown(run.suite.source))
        table.add_column("result", no_wrap=True)
        table.add_column("line", no_wrap=True, justify="right")
        table.add_column("where", overflow="fold")
        table.add_column("case, and its first failure", overflow="fold", ratio=1)
        table.add_column("decisions", justify="right", no_wrap=True)
        for result in run.results:
            mark = "[green]pass[/]" if result.passed else "[bold red]FAIL[/]"
            case = Text(printable(result.name))
            if result.failures:
                case.append(f"\n{printable(result.failures[0])}", style="red")
                if len(result.failures) > 1:
                    case.append(f" (and {len(result.failures) - 1} more)", style="dim")
            line = "" if result.line is None else str(result.line)
            table.add_row(mark, line, shown(result.where), case, str(result.checked))
        parts += [Text(""), table]
    parts.append(Text(""))
    failing = first_failure(runs)
    if failing is not None:
        lines = [f"first failing case: {printable(locate(failing))} {failing.name!r}"]
        lines += [f"  {printable(failure)}" for failure in failing.failures[:SHOWN_FAILURES]]
        if len(failing.failures) > SHOWN_FAILURES:
            lines.append(f"  ... and {len(failing.failures) - SHOWN_FAILURES} more")
        parts.append(Text("\n".join(lines), style="bold red"))
    parts.append(Text(coverage_line(coverage)))
    # What was missed, its list wrapping under itself rather than under the kind.
    missing = Table.grid(padding=(0, 1))
    missing.add_column(no_wrap=True, style="dim")
    missing.add_column(style="dim")
    for kind in KINDS:
        missed = [item.name for item in coverage.missed if item.kind == kind]
        if missed:
            more = f" and {len(missed) - SHOWN_MISSED} more" if len(missed) > SHOWN_MISSED else ""
            missing.add_row(f"  {kind} not exercised:", printable(", ".join(missed[:SHOWN_MISSED]) + more))
    if missing.row_count:
        parts.append(missing)
    passed, failed = totals(runs)
    parts.append(Text(f"{passed} passed, {failed} failed", style="bold red" if failed else "bold green"))
    return Group(*parts)


def coverage_line(coverage: Coverage) -> str:
    kinds = ", ".join("{} {}/{}".format(kind, *coverage.counts(kind)) for kind in KINDS)
    exercised, total = len(coverage.items) - len(coverage.missed), len(coverage.items)
    return f"coverage of {coverage.version}: {kinds}; {exercised}/{total} ({coverage.percent:.1f}%)"


def junit_xml(version: str, runs: Sequence[SuiteRun], coverage: Coverage) -> str:
    """JUnit XML: a <testsuite> per test file, a <testcase> per case, exact set or default."""
    passed, failed = totals(runs)
    root = ET.Element("testsuites", name=f"gw467 test {version}", tests=str(passed + failed))
    root.set("failures", str(failed))
    for run in runs:
        suite = ET.SubElement(root, "testsuite", name=run.suite.source, tests=str(len(run.results)))
        suite.set("failures", str(len(run.failed)))
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="plan_version", value=run.version)
        ET.SubElement(properties, "property", name="coverage_percent", value=f"{coverage.percent:.1f}")
        for result in run.results:
            case = ET.SubElement(
                suite, "testcase", classname=run.version, name=f"{result.where} {result.name}"
            )
            case.set("file", run.suite.source)
            if result.line is not None:
                case.set("line", str(result.line))
            if result.failures:
                failure = ET.SubElement(case, "failure", message=result.failures[0], type="expectation")
                failure.text = "\n".join(result.failures)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
