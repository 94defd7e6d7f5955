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
Two kinds of request skip steps 2 and 4: a request to a `public` endpoint (rule
`public`; a known key still says who called, any other key is ignored), and, when
the policy enables it, a CORS preflight (rule `cors:preflight`), routed as the
method it asks about. HEAD is decided as the GET it mirrors when no HEAD endpoint
matches. Quotas (429) are counted by the middleware, after an allowed decision,
because they depend on time and on earlier requests; everything here is a pure
function of the table and the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from gateway.core.credentials import CredentialProblem, KeyIndex, bearer_key
from gateway.core.paths import PathRejected
from gateway.core.plans import Endpoint, PlanSet, Quota
from gateway.core.refusals import TWITTER_RESPONSES, Responses
from gateway.core.routing import NO_MATCH, RouteTrie
from gateway.core.rules import (
    NO_ROUTE,
    STATUS_BAD_PATH,
    STATUS_NO_ROUTE,
    STATUS_NOT_ENTITLED,
    STATUS_QUOTA,
    STATUS_UNAUTHENTICATED,
    Rule,
    not_authenticated,
    path_refused,
)

_UNKNOWN_KEY = not_authenticated("unknown-key")
_ORIGIN = b"origin"
_REQUEST_METHOD = b"access-control-request-method"


def refusal_bodies(responses: Responses) -> Mapping[int, bytes]:
    """The body of each refusal status, encoded once."""
    return MappingProxyType(
        {
            STATUS_NOT_ENTITLED: responses.not_entitled.encoded(),
            STATUS_UNAUTHENTICATED: responses.unauthenticated.encoded(),
            STATUS_NO_ROUTE: responses.no_route.encoded(),
            STATUS_QUOTA: responses.quota.encoded(),
        }
    )


TWITTER_BODIES = refusal_bodies(TWITTER_RESPONSES)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The compiled answer for one client profile on one endpoint: the rule, and the quota it counts in.

    `allowed` is read off the rule once, here, since every request reads it. `plan` is the
    plan the client is judged by (the rule's plan; for a public endpoint, the caller's plan).
    """

    rule: Rule
    quota: Quota | None = None
    plan: str | None = None
    allowed: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed", self.rule.allows)
        if self.plan is None:
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
    key_digests: tuple[bytes, ...]
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
    """A compiled plan set (see `gateway.core.compiler`): routes, keys, verdicts and refusal bodies.

    `public` is the verdict of a public endpoint for a caller without a known key,
    `preflight` that of a CORS preflight (None when the policy does not pass them),
    `cors_origins` the origins whose pages may read the gateway's refusals (`*`: any).
    """

    def __init__(
        self,
        plan_set: PlanSet,
        routes: RouteTrie,
        clients: tuple[CompiledClient, ...],
        plan_grants: dict[str, int],
        public: Verdict,
        preflight: Verdict | None,
    ) -> None:
        self.plan_set = plan_set
        self.endpoints: tuple[Endpoint, ...] = plan_set.endpoints
        self.routes = routes
        self.clients = clients
        self.keys: KeyIndex[CompiledClient] = KeyIndex(clients)
        self.clients_by_id = {client.id: client for client in clients}
        # Bit i of plan_grants[plan] is set when the plan grants endpoint i.
        self.plan_grants = plan_grants
        self.public = public
        self.preflight = preflight
        self.bodies = refusal_bodies(plan_set.responses)
        # The origins whose pages may read refusals, as request headers carry them.
        self.cors_origins = frozenset(origin.encode() for origin in plan_set.policy.cors_origins)
        # The plan file's content hash, computed once: the decision log names the plan by it.
        self.digest: str | None = plan_set.digest

    @property
    def version(self) -> str:
        return self.plan_set.version


class Decision(NamedTuple):
    """What the gateway does with one request.

    `status` is None when the request is forwarded, else the status the gateway
    answers with. `path` is the path the upstream will route on (decoded, as
    ASGI's `path`). `bodies` are the refusal bodies of the table that decided.
    A NamedTuple rather than a frozen dataclass because one is built per request.
    """

    status: int | None
    rule: Rule
    client: CompiledClient | None = None
    endpoint: Endpoint | None = None
    verdict: Verdict | None = None
    path: str | None = None
    bodies: Mapping[int, bytes] = TWITTER_BODIES


def preflight_method(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The method a CORS preflight asks about (its Origin and Access-Control-Request-Method
    headers both present), or None when the request is not a preflight."""
    # equivalent mutants: None is as false as False, and '' as None, here
    origin = False  # pragma: no mutate
    requested = None  # pragma: no mutate
    for name, value in headers:
        lowered = name.lower()
        if lowered == _ORIGIN:
            origin = True
        elif lowered == _REQUEST_METHOD:
            # equivalent mutants: codec names are case-insensitive
            requested = value.decode("latin-1").strip().upper()  # pragma: no mutate
    return requested if origin and requested else None


def decide(
    table: DecisionTable,
    method: str,
    raw_path: str,
    authorization: list[bytes],
    client: CompiledClient | None = None,
    preflight: str | None = None,
) -> Decision:
    """Decide one request. `authorization` holds every Authorization header value sent.

    `client`, when given, skips authentication (used by `gw467 explain --client`).
    `preflight` is, for an OPTIONS request, the method a CORS preflight asks about
    (see `preflight_method`).
    """
    bodies = table.bodies
    if preflight is not None and method == "OPTIONS" and table.preflight is not None:
        return _decide_preflight(table, preflight, raw_path)
    try:
        route = table.routes.route(method, raw_path)
    except PathRejected as rejected:
        return Decision(STATUS_BAD_PATH, path_refused(rejected.reason), bodies=bodies)
    index = route.endpoint
    if index != NO_MATCH and table.endpoints[index].public:
        return _decide_public(table, index, route.path, authorization, client)
    if client is None:
        try:
            key = bearer_key(authorization)
        except CredentialProblem as problem:
            return Decision(STATUS_UNAUTHENTICATED, not_authenticated(problem.reason), bodies=bodies)
        client = table.keys.find(key)
        if client is None:
            return Decision(STATUS_UNAUTHENTICATED, _UNKNOWN_KEY, bodies=bodies)
    if index == NO_MATCH:
        return Decision(STATUS_NO_ROUTE, NO_ROUTE, client, bodies=bodies)
    verdict = client.verdicts[index]
    if not verdict.allowed:
        return Decision(
            STATUS_NOT_ENTITLED, verdict.rule, client, table.endpoints[index], verdict, None, bodies
        )
    return Decision(None, verdict.rule, client, table.endpoints[index], verdict, route.path, bodies)


def _decide_public(
    table: DecisionTable, index: int, path: str, authorization: list[bytes], client: CompiledClient | None
) -> Decision:
    """A public endpoint: forwarded whoever calls; decided as the client when its key is known."""
    if client is None and authorization:
        try:
            client = table.keys.find(bearer_key(authorization))
        except CredentialProblem:
            client = None
    verdict = table.public if client is None else client.verdicts[index]
    return Decision(None, verdict.rule, client, table.endpoints[index], verdict, path, table.bodies)


def _decide_preflight(table: DecisionTable, requested: str, raw_path: str) -> Decision:
    """A CORS preflight: forwarded without a key when the method it asks about has a route."""
    assert table.preflight is not None
    try:
        route = table.routes.route(requested, raw_path)
    except PathRejected as rejected:
        return Decision(STATUS_BAD_PATH, path_refused(rejected.reason), bodies=table.bodies)
    if route.endpoint == NO_MATCH:
        return Decision(STATUS_NO_ROUTE, NO_ROUTE, bodies=table.bodies)
    verdict = table.preflight
    return Decision(
        None, verdict.rule, None, table.endpoints[route.endpoint], verdict, route.path, table.bodies
    )
