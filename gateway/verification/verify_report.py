"""Showing `gw467 verify`'s results: a line per invariant (ok or FAILED, what it states, how it was
checked), a failed one's counterexample under it, and the verdict; and the same as a JSON document."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.text import Text

from gateway.verification.verify import CheckResult


def verify_json(old: str, new: str, results: Sequence[CheckResult]) -> dict[str, object]:
    return {"old": old, "new": new, "checks": [result.__dict__ for result in results]}


def render_results(old: str, new: str, results: Sequence[CheckResult]) -> RenderableType:
    lines: list[str] = []
    for result in results:
        mark = "[green]ok    [/]" if result.passed else "[bold red]FAILED[/]"
        lines.append(f"{mark} {result.name:<28} {escape(result.statement)} [dim]({result.method})[/]")
        if result.counterexample:
            lines.append(f"       counterexample: {escape(result.counterexample)}")
    failed = sum(not result.passed for result in results)
    verdict = f"{failed} of {len(results)} invariants broken" if failed else "all invariants hold"
    lines.append(f"[bold]{old} -> {new}: {verdict}[/]")
    return Group(*(Text.from_markup(line) for line in lines))
