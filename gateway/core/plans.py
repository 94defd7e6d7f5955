"""The entitlement domain as immutable values: endpoints, plans, clients, policy, PlanSet.

A `PlanSet` is what a plan file means once it has been read and validated
(`gateway.core.planfile`); everything downstream (compiling, diffing, the reference
evaluator) works from these values, never from raw TOML.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase, translate

from gateway.core.refusals import TWITTER_RESPONSES, Responses

FIRST_PARTY = "first_party"
THIRD_PARTY = "third_party"


@dataclass(frozen=True)
class Endpoint:
    """One API operation: a method on a path template, on a product surface.

    A `public` endpoint needs no key: anyone reaches it, and a known key only says who called.
    """

    id: str
    method: str
    path: str
    surface: str
    public: bool = False


@dataclass(frozen=True)
class Grant:
    """Access to the endpoints whose ids match `endpoints` (ids or globs), for `methods`."""

    endpoints: tuple[str, ...]
    methods: tuple[str, ...] = ()

    def covers(self, endpoint: Endpoint) -> bool:
        return self.covering_pattern(endpoint) is not None

    def covering_pattern(self, endpoint: Endpoint) -> str | None:
        """The first of this grant's patterns that admits `endpoint`, if any."""
        if self.methods and endpoint.method not in self.methods:
            return None
        for pattern in self.endpoints:
            if fnmatchcase(endpoint.id, pattern):
                return pattern
        return None


GLOB_CHARACTERS = frozenset("*?[")


class EndpointLookup:
    """The endpoints whose ids a grant pattern matches, by number: a dict lookup for a plain id,
    one scan of the ids for a glob. Validation and compilation ask this once per pattern, so
    their cost grows with the catalogue plus the patterns, not with their product."""

    def __init__(self, endpoints: tuple[Endpoint, ...]) -> None:
        self.endpoints = endpoints
        self._number = {endpoint.id: number for number, endpoint in enumerate(endpoints)}

    def matching(self, pattern: str) -> list[int]:
        """The numbers of the endpoints whose id `pattern` matches (`fnmatchcase`), in order."""
        if GLOB_CHARACTERS.isdisjoint(pattern):
            number = self._number.get(pattern)
            return [] if number is None else [number]
        match = re.compile(translate(pattern)).match
        return [number for number, endpoint in enumerate(self.endpoints) if match(endpoint.id)]

    def covering_patterns(self, plan: Plan) -> tuple[str | None, ...]:
        """For each endpoint, `plan.covering_pattern(endpoint)`: its first grant's first pattern
        that admits it, or None."""
        found: list[str | None] = [None] * len(self.endpoints)
        for grant in plan.grants:
            for pattern in grant.endpoints:
                for number in self.matching(pattern):
                    if found[number] is None and (
                        not grant.methods or self.endpoints[number].method in grant.methods
                    ):
                        found[number] = pattern
        return tuple(found)


@dataclass(frozen=True)
class Quota:
    """At most `requests` granted requests per client in each fixed window of `window_seconds`."""

    requests: int
    window_seconds: int


@dataclass(frozen=True)
class Plan:
    """An API plan: its place in the tier order, what it grants and how much."""

    name: str
    tier: int
    grants: tuple[Grant, ...]
    quota: Quota | None = None

    def covering_pattern(self, endpoint: Endpoint) -> str | None:
        """The pattern that grants `endpoint`: the first grant's that admits it, or None."""
        for grant in self.grants:
            pattern = grant.covering_pattern(endpoint)
            if pattern is not None:
                return pattern
        return None


@dataclass(frozen=True)
class Client:
    """An authenticated caller. Its API keys (several while one is rotated out) are kept only as
    SHA-256 hex digests."""

    id: str
    client_class: str
    first_party: bool
    key_sha256s: tuple[str, ...] = field(repr=False)
    plan: str | None = None


@dataclass(frozen=True)
class Policy:
    """How plans are enforced.

    `exempt` lists selectors of clients that skip plan checks: `first_party`,
    `third_party`, `class:<name>` or `client:<id>`. `default_plan` is the plan
    applied to a non-exempt client whose record names none; without it such a
    client is granted nothing. `cors_preflight` passes CORS preflight requests
    (OPTIONS with Origin and Access-Control-Request-Method) to the app without a key.
    `cors_origins` are the origins (`https://app.example`, lower case, or `*` alone) whose
    pages may read the gateway's own refusals, as the app's CORS lets them read its answers.
    """

    exempt: tuple[str, ...] = ()
    default_plan: str | None = None
    cors_preflight: bool = False
    cors_origins: tuple[str, ...] = ()

    def exemption_for(self, client: Client) -> str | None:
        """The selector that exempts `client` from plan checks, or None."""
        for selector in self.exempt:
            if selector_matches(selector, client):
                return selector
        return None

    def plan_for(self, client: Client) -> str | None:
        return client.plan if client.plan is not None else self.default_plan


def selector_matches(selector: str, client: Client) -> bool:
    if selector == FIRST_PARTY:
        return client.first_party
    if selector == THIRD_PARTY:
        return not client.first_party
    kind, _, value = selector.partition(":")
    if kind == "class":
        return client.client_class == value
    if kind == "client":
        return client.id == value
    return False


@dataclass(frozen=True)
class PlanSet:
    """A whole plan file: the endpoint catalogue, plans, clients and policy."""

    version: str
    endpoints: tuple[Endpoint, ...]
    plans: tuple[Plan, ...]
    clients: tuple[Client, ...]
    policy: Policy
    description: str = ""
    source: str = "<memory>"
    responses: Responses = TWITTER_RESPONSES
    # The plan-file text this set was read from, kept so the table in force can be written
    # back out exactly (`gw467 admin dump`); empty for a set built in code.
    text: str = field(default="", compare=False, repr=False)

    @property
    def digest(self) -> str | None:
        """The SHA-256 of the plan-file text (the version a fleet stores it under); None for a set
        built in code, which has no text."""
        return plan_hash(self.text) if self.text else None

    def plan(self, name: str) -> Plan:
        for plan in self.plans:
            if plan.name == name:
                return plan
        raise KeyError(name)

    def client(self, client_id: str) -> Client:
        for client in self.clients:
            if client.id == client_id:
                return client
        raise KeyError(client_id)

    def endpoint(self, endpoint_id: str) -> Endpoint:
        for endpoint in self.endpoints:
            if endpoint.id == endpoint_id:
                return endpoint
        raise KeyError(endpoint_id)

    @property
    def class_parties(self) -> dict[str, bool]:
        """Whether each client class is first-party. A class is wholly one or the other (the plan
        file is refused otherwise), since status, alerts and metrics are kept per class."""
        return {client.client_class: client.first_party for client in self.clients}

    @property
    def surfaces(self) -> tuple[str, ...]:
        """Surfaces in catalogue order, each once."""
        return tuple(dict.fromkeys(endpoint.surface for endpoint in self.endpoints))


def plan_hash(text: str) -> str:
    """The content hash of a plan file's text: what the fleet stores a version under, and what the
    decision log names the plan in force by."""
    return hashlib.sha256(text.encode()).hexdigest()
