"""`gw467 verify OLD NEW`: every invariant of gateway.verification, run on two plan files.

Exhaustive where the space is small (grants: clients x endpoints, plans x plans),
Hypothesis where it is not (requests, spellings, headers, sequences). Each failed
check carries its shrunk counterexample, so the command's output is the bug report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, Verbosity, settings

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable
from gateway.core.planfile import load_plan_set
from gateway.safety.access import first_party_losses
from gateway.verification.invariants import tier_violations
from gateway.verification.properties import (
    compiled_matches_reference,
    decisions_ignore_headers_and_other_requests,
    encodings_decide_as_canonical,
    exemption_ignores_headers,
)
from gateway.verification.strategies import KeyedPlanSet, rekeyed


@dataclass(frozen=True)
class CheckResult:
    name: str
    statement: str
    passed: bool
    counterexample: str | None = None
    method: str = "exhaustive"


def verify(old: str | Path, new: str | Path, examples: int = 200) -> list[CheckResult]:
    """Run every invariant: the change OLD -> NEW, and NEW on its own. ConfigError on a bad file."""
    old_table = compile_plan_set(load_plan_set(old))
    new_set = load_plan_set(new)
    new_table = compile_plan_set(new_set)
    results = exhaustive_checks(old_table, new_table)
    keyed = rekeyed(new_set)
    hunts: list[tuple[str, Callable[[KeyedPlanSet], Callable[[], None]]]] = [
        ("compiled == reference", compiled_matches_reference),
        ("path encodings", encodings_decide_as_canonical),
        ("exemption vs headers", exemption_ignores_headers),
        ("headers and other requests", decisions_ignore_headers_and_other_requests),
    ]
    for name, factory in hunts:
        results.append(_hunt(name, _statement(factory), factory(keyed), examples))
    return results


def exhaustive_checks(old: DecisionTable, new: DecisionTable) -> list[CheckResult]:
    """The checks that need no search: lost access (every client x endpoint) and tier order."""
    losses = first_party_losses(old, new)
    violations = tier_violations(new)
    return [
        CheckResult(
            "first-party regression",
            "no client that is first-party in OLD loses, in NEW, any access it had in OLD",
            not losses,
            f"{losses[0]} ({len(losses)} first-party grants lost in all)" if losses else None,
        ),
        CheckResult(
            "tier monotonicity",
            "in NEW, a higher tier never reaches less than a lower tier",
            not violations,
            f"{violations[0]} ({len(violations)} such grants in all)" if violations else None,
        ),
    ]


def _statement(factory: Callable[..., object]) -> str:
    """The one-sentence property from the factory's docstring, in NEW's terms."""
    first_paragraph = (factory.__doc__ or "").split("\n\n")[0]
    return " ".join(first_paragraph.split()).removeprefix("Property: ").rstrip(".")


def _hunt(name: str, statement: str, check: Callable[[], None], examples: int) -> CheckResult:
    configured = settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )(check)
    try:
        configured()
    except AssertionError as failure:
        return CheckResult(name, statement, False, str(failure).splitlines()[0], f"{examples} examples")
    return CheckResult(name, statement, True, None, f"{examples} examples")
