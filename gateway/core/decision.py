"""Where a request is decided: `decide(table, method, raw_path, authorization)`.

Four steps, in order, each of which may end the decision:
1. canonicalize the path           (400, rule `path:<reason>`)
2. authenticate the bearer key     (401, rule `auth:<reason>`)
3. match method + path to endpoint (404, rule `route:none`)
4. entitle: the verdict compiled for the client's profile and the endpoint
   (`exempt:<selector>`, `plan:<name>/grant:<pattern>`, or 467 `plan:<name>/deny`).
Every answer names its `gateway.core.rules.Rule`.
Steps 1 and 3 are one call, `table.routes.route()`, which remembers recent paths;
its answer is only used in this order, so an unknown path still gets 401 first.
Quotas (429) are counted by the middleware, after an allowed decision, because
they depend on time and on earlier requests; everything here is a pure function
of the table and the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from gateway.core.credentials import CredentialProblem, KeyIndex, bearer_key
from gateway.core.paths import PathRejected
from gateway.core.plans import Endpoint, PlanSet, Quota
from gateway.core.routing import NO_MATCH, RouteTrie
from gateway.core.rules import (
    NO_ROUTE,
    STATUS_BAD_PATH,
    STATUS_NO_ROUTE,
    STATUS_NOT_ENTITLED,
    STATUS_UNAUTHENTICATED,
    Rule,
    not_authenticated,
    path_refused,
)

_UNKNOWN_KEY = not_authenticated("unknown-key")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The compiled answer for one client profile on one endpoint: the rule, and the quota it counts in.

    `allowed` and `plan` are read off the rule once, here, since every request reads them.
    """

    rule: Rule
    quota: Quota | None = None
    allowed: bool = field(init=False)
    plan: str | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed", self.rule.allows)
        object.__setattr__(self, "plan", self.rule.plan)


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """Who a request came from, as the upstream app sees it (never the key)."""

    id: str
    client_class: str
    first_party: bool


@dataclass(frozen=True, slots=True)
class CompiledClient:
    """A client ready for decisions: its identity and its verdict for every endpoint.

    `plan` is the plan it is judged by (None when exempt or planless) and
    `exemption` the policy selector that exempts it, if any.
    """

    identity: ClientIdentity
    plan: str | None
    exemption: str | None
    key_digest: bytes
    verdicts: tuple[Verdict, ...]

    @property
    def id(self) -> str:
        return self.identity.id

    @property
    def client_class(self) -> str:
        return self.identity.client_class

    @property
    def first_party(self) -> bool:
        return self.identity.first_party


class DecisionTable:
    """A compiled plan set (see `gateway.core.compiler`): routes, keys, and verdicts."""

    def __init__(
        self,
        plan_set: PlanSet,
        routes: RouteTrie,
        clients: tuple[CompiledClient, ...],
        plan_grants: dict[str, int],
    ) -> None:
        self.plan_set = plan_set
        self.endpoints: tuple[Endpoint, ...] = plan_set.endpoints
        self.routes = routes
        self.clients = clients
        self.keys: KeyIndex[CompiledClient] = KeyIndex(clients)
        self.clients_by_id = {client.id: client for client in clients}
        # Bit i of plan_grants[plan] is set when the plan grants endpoint i.
        self.plan_grants = plan_grants

    @property
    def version(self) -> str:
        return self.plan_set.version


class Decision(NamedTuple):
    """What the gateway does with one request.

    `status` is None when the request is forwarded, else the status the gateway
    answers with. `path` is the path the upstream will route on. A NamedTuple
    rather than a frozen dataclass because one is built per request.
    """

    status: int | None
    rule: Rule
    client: CompiledClient | None = None
    endpoint: Endpoint | None = None
    verdict: Verdict | None = None
    path: str | None = None


def decide(
    table: DecisionTable,
    method: str,
    raw_path: str,
    authorization: list[bytes],
    client: CompiledClient | None = None,
) -> Decision:
    """Decide one request. `authorization` holds every Authorization header value sent.

    `client`, when given, skips authentication (used by `gw467 explain --client`).
    """
    try:
        route = table.routes.route(method, raw_path)
    except PathRejected as rejected:
        return Decision(STATUS_BAD_PATH, path_refused(rejected.reason))
    if client is None:
        try:
            key = bearer_key(authorization)
        except CredentialProblem as problem:
            return Decision(STATUS_UNAUTHENTICATED, not_authenticated(problem.reason))
        client = table.keys.find(key)
        if client is None:
            return Decision(STATUS_UNAUTHENTICATED, _UNKNOWN_KEY)
    index = route.endpoint
    if index == NO_MATCH:
        return Decision(STATUS_NO_ROUTE, NO_ROUTE, client)
    verdict = client.verdicts[index]
    if not verdict.allowed:
        return Decision(STATUS_NOT_ENTITLED, verdict.rule, client, table.endpoints[index], verdict)
    return Decision(None, verdict.rule, client, table.endpoints[index], verdict, route.path)
