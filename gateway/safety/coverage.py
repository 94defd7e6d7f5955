"""Coverage of a plan test suite: which exemption selectors, grants, plans and endpoints it exercised.

An item is exercised when some decision the suite made went through it: an endpoint
matched, a client exempted by a selector, judged by a plan, or admitted by a grant pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.decision import Decision, DecisionTable

KINDS = ("exemptions", "grants", "plans", "endpoints")


@dataclass(frozen=True)
class CoverageItem:
    kind: str
    name: str
    exercised: bool


@dataclass(frozen=True)
class Coverage:
    """Every coverable item of one plan file, each marked exercised or not."""

    version: str
    items: tuple[CoverageItem, ...]

    def counts(self, kind: str) -> tuple[int, int]:
        """(exercised, total) for one kind of item."""
        of_kind = [item for item in self.items if item.kind == kind]
        return sum(item.exercised for item in of_kind), len(of_kind)

    @property
    def percent(self) -> float:
        """Exercised items over all items, in percent (100 for a file with nothing to cover)."""
        if not self.items:
            return 100.0
        return 100.0 * sum(item.exercised for item in self.items) / len(self.items)

    @property
    def missed(self) -> tuple[CoverageItem, ...]:
        return tuple(item for item in self.items if not item.exercised)


def grant_label(plan: str, pattern: str) -> str:
    return f"{plan}: {pattern}"


class CoverageRecorder:
    """Collects what the decisions of a run went through, for one compiled table."""

    def __init__(self, table: DecisionTable) -> None:
        self._table = table
        self._exercised: set[tuple[str, str]] = set()

    def record(self, decision: Decision) -> None:
        endpoint, client, verdict = decision.endpoint, decision.client, decision.verdict
        if endpoint is None or client is None or verdict is None:
            return
        self._exercised.add(("endpoints", endpoint.id))
        if client.exemption is not None:
            self._exercised.add(("exemptions", client.exemption))
        elif client.plan is not None:
            self._exercised.add(("plans", client.plan))
            pattern = self._table.plan_set.plan(client.plan).covering_pattern(endpoint)
            if verdict.allowed and pattern is not None:
                self._exercised.add(("grants", grant_label(client.plan, pattern)))

    def report(self) -> Coverage:
        plan_set = self._table.plan_set
        names: list[tuple[str, str]] = [("exemptions", selector) for selector in plan_set.policy.exempt]
        for plan in plan_set.plans:
            patterns = dict.fromkeys(p for grant in plan.grants for p in grant.endpoints)
            names.extend(("grants", grant_label(plan.name, pattern)) for pattern in patterns)
        names.extend(("plans", plan.name) for plan in plan_set.plans)
        names.extend(("endpoints", endpoint.id) for endpoint in plan_set.endpoints)
        items = tuple(CoverageItem(kind, name, (kind, name) in self._exercised) for kind, name in names)
        return Coverage(self._table.version, items)
