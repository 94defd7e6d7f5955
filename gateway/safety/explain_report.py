"""Showing an `Explanation`: the request, each step with its verdict, and the outcome with the rule
that decided it; and the same as a JSON document."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from gateway.safety.explain import Explanation
from gateway.terminal.console import shown


def explanation_json(result: Explanation) -> dict[str, object]:
    decision = result.decision
    return {
        "request": f"{result.method} {result.path}",
        "steps": [{"step": s.name, "passed": s.passed, "detail": s.detail} for s in result.steps],
        "status": decision.status,
        "rule": str(decision.rule),
        "forwarded_path": decision.path,
    }


def render_explanation(result: Explanation, version: str) -> RenderableType:
    """A line for the request, one per step (ok or no, and why), and the outcome."""
    decision = result.decision
    lines = [f"[bold]{shown(result.method)} {shown(result.path)}[/] against [bold]{shown(version)}[/]"]
    for number, step in enumerate(result.steps, 1):
        mark = "[green]ok[/]" if step.passed else "[red]no[/]"
        lines.append(f"  {number}. {mark}  {step.name:<10} {shown(step.detail)}")
    colour = "green" if decision.status is None else "red"
    forwarded = f" as {shown(decision.path)}" if decision.path else ""
    lines.append(f"  => [{colour}]{result.outcome}{forwarded}[/]   rule [bold]{shown(str(decision.rule))}[/]")
    return Group(*(Text.from_markup(line) for line in lines))
