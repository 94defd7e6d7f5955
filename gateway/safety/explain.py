"""`gw467 explain`: the decision of one request, step by step, as an operator reads it.

The verdict comes from the same `decide()` the middleware runs; this module only
adds the reasons (which policy selector, which plan, which grant) beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.decision import CompiledClient, Decision, DecisionTable, decide
from gateway.core.paths import PathRejected, canonical_segments, join_segments
from gateway.request_path.responses import PATH_REASONS


@dataclass(frozen=True)
class Step:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Explanation:
    method: str
    path: str
    steps: tuple[Step, ...]
    decision: Decision

    @property
    def outcome(self) -> str:
        status = self.decision.status
        return "forwarded to the upstream" if status is None else f"answered {status} by the gateway"


def explain(
    table: DecisionTable,
    method: str,
    path: str,
    *,
    key: str | None = None,
    client_id: str | None = None,
) -> Explanation:
    """Decide `method path` for a key (authenticating it) or a client id (skipping that)."""
    method = method.upper()
    given: CompiledClient | None = None
    if client_id is not None:
        given = table.clients_by_id.get(client_id)
        if given is None:
            raise KeyError(client_id)
    authorization = [f"Bearer {key}".encode()] if key is not None else []
    decision = decide(table, method, path, authorization, client=given)
    steps = [_path_step(path)]
    if steps[0].passed:
        steps.append(_client_step(decision, given is not None))
    if decision.client is not None:
        steps.append(_route_step(table, method, decision))
    if decision.endpoint is not None and decision.client is not None:
        steps.extend(_entitle_steps(table, decision.client, decision))
    return Explanation(method, path, tuple(steps), decision)


def _path_step(path: str) -> Step:
    try:
        canonical = join_segments(canonical_segments(path))
    except PathRejected as rejected:
        return Step("path", False, f"refused: {PATH_REASONS.get(rejected.reason, rejected.reason)}")
    note = "unchanged" if canonical == path else f"normalized from {path!r}"
    return Step("path", True, f"{canonical} ({note})")


def _client_step(decision: Decision, by_id: bool) -> Step:
    client = decision.client
    if client is None:
        return Step("client", False, f"not authenticated ({decision.rule.reason})")
    party = "first-party" if client.first_party else "third-party"
    how = "chosen with --client, authentication skipped" if by_id else "API key matched"
    return Step("client", True, f"{client.id} (class {client.client_class}, {party}; {how})")


def _route_step(table: DecisionTable, method: str, decision: Decision) -> Step:
    endpoint = decision.endpoint
    if endpoint is None:
        return Step("endpoint", False, f"no endpoint for {method} on this path in {table.version}")
    return Step(
        "endpoint",
        True,
        f"{endpoint.id}: {endpoint.method} {endpoint.path} (surface {endpoint.surface})",
    )


def _entitle_steps(table: DecisionTable, client: CompiledClient, decision: Decision) -> list[Step]:
    policy = table.plan_set.policy
    exempt_list = f"policy.exempt = {list(policy.exempt)}"
    if client.exemption is not None:
        return [Step("exemption", True, f"{exempt_list}: {client.exemption!r} exempts {client.id}")]
    steps = [Step("exemption", False, f"{exempt_list}: nothing exempts {client.id}")]
    record = table.plan_set.client(client.id)
    if record.plan is not None:
        source = f"plan {record.plan!r} from the client record"
    elif policy.default_plan is not None:
        source = f"no plan in the client record; policy.default_plan = {policy.default_plan!r}"
    else:
        source = "no plan in the client record and no policy.default_plan"
    steps.append(Step("plan", client.plan is not None, source))
    verdict = decision.verdict
    assert verdict is not None and decision.endpoint is not None
    endpoint_id = decision.endpoint.id
    if verdict.allowed:
        pattern = verdict.rule.pattern
        steps.append(Step("grant", True, f"plan {client.plan!r} grants {endpoint_id} through {pattern!r}"))
    elif client.plan is not None:
        steps.append(Step("grant", False, f"plan {client.plan!r} grants nothing that matches {endpoint_id}"))
    else:
        steps.append(Step("grant", False, "a client without a plan is granted nothing"))
    return steps
