"""Synthetic plan sets of any size, built from `gateway.core.plans` values (no TOML involved).

Templates are `GET /v1/r{n}/items/{id}` with a distinct literal per n (so none overlap); one plan
grants them all and is every client's default; each client has its own bearer key.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass

from gateway.core.plans import Client, Endpoint, Grant, Plan, PlanSet, Policy

METHOD = "GET"
PLAN = "standard"
PROGRESS_EVERY = 250_000


@dataclass(frozen=True)
class Case:
    """A plan set and one request into the middle of it that the plan set must allow."""

    plan_set: PlanSet
    method: str
    path: str
    key: bytes
    endpoint_id: str
    client_id: str


def _key(index: int) -> str:
    return f"gw467-bench-{index:07d}"


def _endpoints(count: int) -> tuple[Endpoint, ...]:
    return tuple(Endpoint(f"r{n}.items", METHOD, f"/v1/r{n}/items/{{id}}", f"s{n % 8}") for n in range(count))


def _clients(count: int, progress: bool) -> tuple[Client, ...]:
    clients = []
    sha256 = hashlib.sha256
    for index in range(count):
        digest = sha256(_key(index).encode()).hexdigest()
        clients.append(Client(f"app{index:07d}", "third_party", False, (digest,)))
        if progress and (index + 1) % PROGRESS_EVERY == 0:
            print(f"    {index + 1:,}/{count:,} clients", file=sys.stderr)
    return tuple(clients)


def build_case(templates: int, keys: int, progress: bool = False) -> Case:
    """`templates` endpoints and `keys` clients; the request hits the middle endpoint with the middle key."""
    endpoints = _endpoints(templates)
    clients = _clients(keys, progress)
    plan_set = PlanSet(
        version=f"bench-{templates}t-{keys}k",
        endpoints=endpoints,
        plans=(Plan(PLAN, 0, (Grant(("r*",)),)),),
        clients=clients,
        policy=Policy((), PLAN),
        source="<benchmarks.synthetic>",
    )
    middle_endpoint = templates // 2
    middle_client = keys // 2
    return Case(
        plan_set=plan_set,
        method=METHOD,
        path=f"/v1/r{middle_endpoint}/items/1234567890",
        key=_key(middle_client).encode(),
        endpoint_id=endpoints[middle_endpoint].id,
        client_id=clients[middle_client].id,
    )
