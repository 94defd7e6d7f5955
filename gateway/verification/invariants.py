"""Invariant checks over one compiled plan table, as plain functions returning counterexamples.

Each check states in its docstring, in one sentence, what must hold; an empty
list means it holds. They are exhaustive over the plans and endpoints of the
table, so they can run in a test, in CI, or from `gw467 verify`. Checks over a
change between two tables are `gateway.safety.access`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.decision import DecisionTable


@dataclass(frozen=True)
class TierViolation:
    """A plan of a higher tier that does not reach an endpoint a lower tier reaches."""

    lower_plan: str
    higher_plan: str
    endpoint_id: str

    def __str__(self) -> str:
        return (
            f"plan {self.higher_plan!r} (higher tier) does not grant {self.endpoint_id!r}, "
            f"which plan {self.lower_plan!r} (lower tier) grants"
        )


def tier_violations(table: DecisionTable) -> list[TierViolation]:
    """A higher tier never reaches less than a lower tier: every grant of a plan is also a grant
    of every plan above it."""
    plans = sorted(table.plan_set.plans, key=lambda plan: plan.tier)
    found = []
    for position, lower in enumerate(plans):
        for higher in plans[position + 1 :]:
            missing = table.plan_grants[lower.name] & ~table.plan_grants[higher.name]
            for index, endpoint in enumerate(table.endpoints):
                if missing >> index & 1:
                    found.append(TierViolation(lower.name, higher.name, endpoint.id))
    return found
