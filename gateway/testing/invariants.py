"""Invariant checks over compiled plan tables, as plain functions returning counterexamples.

Each check states in its docstring, in one sentence, what must hold; an empty
list means it holds. They are exhaustive over the clients, plans and endpoints
of the tables, so they can run in a test, in CI, or from `gw467 verify`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.decision import DecisionTable


@dataclass(frozen=True)
class Regression:
    """A client that reached an endpoint before a change and does not after it."""

    client_id: str
    client_class: str
    endpoint_id: str
    rule_before: str
    rule_after: str

    def __str__(self) -> str:
        return (
            f"first-party client {self.client_id!r} (class {self.client_class}) loses "
            f"{self.endpoint_id!r}: {self.rule_before} -> {self.rule_after}"
        )


def first_party_regression(
    baseline: DecisionTable, candidate: DecisionTable, client_id: str, endpoint_id: str
) -> Regression | None:
    """The regression for one (client, endpoint) pair, if the candidate takes away access."""
    before = baseline.clients_by_id.get(client_id)
    after = candidate.clients_by_id.get(client_id)
    if before is None or after is None or not after.first_party:
        return None
    index_before = _endpoint_index(baseline, endpoint_id)
    index_after = _endpoint_index(candidate, endpoint_id)
    if index_before is None or index_after is None:
        return None
    verdict_before = before.verdicts[index_before]
    verdict_after = after.verdicts[index_after]
    if verdict_before.allowed and not verdict_after.allowed:
        return Regression(client_id, after.client_class, endpoint_id, verdict_before.rule, verdict_after.rule)
    return None


def first_party_regressions(baseline: DecisionTable, candidate: DecisionTable) -> list[Regression]:
    """No first-party client loses, in the candidate, an endpoint it reached in the baseline."""
    found = []
    for client in candidate.clients:
        for endpoint in candidate.endpoints:
            regression = first_party_regression(baseline, candidate, client.id, endpoint.id)
            if regression is not None:
                found.append(regression)
    return found


def _endpoint_index(table: DecisionTable, endpoint_id: str) -> int | None:
    for index, endpoint in enumerate(table.endpoints):
        if endpoint.id == endpoint_id:
            return index
    return None


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
