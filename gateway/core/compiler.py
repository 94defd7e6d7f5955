"""Compiling a `PlanSet` into a `DecisionTable`, once, so that deciding is lookups only.

Each plan becomes a bitset of granted endpoints. Clients that share a profile
(the same exemption and the same plan) share one precomputed tuple of verdicts,
indexed by endpoint number, so a decision is a route match plus one index.
Every verdict rule is built here: grants, denials, exemptions, `public` and
`cors:preflight`.
"""

from __future__ import annotations

from gateway.core.decision import ClientIdentity, CompiledClient, DecisionTable, Verdict
from gateway.core.plans import EndpointLookup, PlanSet
from gateway.core.routing import RouteTrie
from gateway.core.rules import PREFLIGHT, PUBLIC, Rule, RuleKind


def compile_plan_set(plan_set: PlanSet) -> DecisionTable:
    routes = RouteTrie(plan_set.endpoints)
    lookup = EndpointLookup(plan_set.endpoints)
    patterns = {plan.name: lookup.covering_patterns(plan) for plan in plan_set.plans}
    plan_grants = {name: _bits(granting) for name, granting in patterns.items()}
    profiles: dict[tuple[str | None, str | None], tuple[Verdict, ...]] = {}
    clients: list[CompiledClient] = []
    for client in plan_set.clients:
        exemption = plan_set.policy.exemption_for(client)
        plan_name = None if exemption else plan_set.policy.plan_for(client)
        profile = (exemption, plan_name)
        if profile not in profiles:
            profiles[profile] = _verdicts(plan_set, patterns, exemption, plan_name)
        clients.append(
            CompiledClient(
                identity=ClientIdentity(client.id, client.client_class, client.first_party),
                plan=plan_name,
                exemption=exemption,
                key_digests=tuple(bytes.fromhex(digest) for digest in client.key_sha256s),
                verdicts=profiles[profile],
            )
        )
    public = Verdict(PUBLIC)
    preflight = Verdict(PREFLIGHT) if plan_set.policy.cors_preflight else None
    return DecisionTable(plan_set, routes, tuple(clients), plan_grants, public, preflight)


def _bits(granting: tuple[str | None, ...]) -> int:
    bits = 0
    for index, pattern in enumerate(granting):
        if pattern is not None:
            bits |= 1 << index
    return bits


def _verdicts(
    plan_set: PlanSet,
    patterns: dict[str, tuple[str | None, ...]],
    exemption: str | None,
    plan_name: str | None,
) -> tuple[Verdict, ...]:
    """The profile's verdict on each endpoint; a public endpoint is reached whatever the profile."""
    public = Verdict(PUBLIC, plan=plan_name)
    by_entitlement = _entitled_verdicts(plan_set, patterns, exemption, plan_name)
    return tuple(
        public if endpoint.public else verdict
        # equivalent mutants: the lengths are equal by construction; strict only guards that
        for endpoint, verdict in zip(plan_set.endpoints, by_entitlement, strict=True)  # pragma: no mutate
    )


def _entitled_verdicts(
    plan_set: PlanSet,
    patterns: dict[str, tuple[str | None, ...]],
    exemption: str | None,
    plan_name: str | None,
) -> tuple[Verdict, ...]:
    if exemption is not None:
        exempt = Verdict(Rule(RuleKind.EXEMPT, selector=exemption))
        return (exempt,) * len(plan_set.endpoints)
    if plan_name is None:
        no_plan = Verdict(Rule(RuleKind.DENY))
        return (no_plan,) * len(plan_set.endpoints)
    plan = plan_set.plan(plan_name)
    denied = Verdict(Rule(RuleKind.DENY, plan=plan.name), plan.quota)
    granted_by: dict[str, Verdict] = {}
    verdicts: list[Verdict] = []
    for pattern in patterns[plan_name]:
        if pattern is None:
            verdicts.append(denied)
            continue
        if pattern not in granted_by:
            granted_by[pattern] = Verdict(Rule(RuleKind.GRANT, plan=plan.name, pattern=pattern), plan.quota)
        verdicts.append(granted_by[pattern])
    return tuple(verdicts)
