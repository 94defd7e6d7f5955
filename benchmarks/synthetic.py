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


def catalogue_text(endpoints: int) -> str:
    """A plan file of `endpoints` endpoints, as an OpenAPI import makes them: one template per
    resource and method, a glob grant and a plan that names every tenth endpoint by id (the two
    ways a grant is written, each checked against the whole catalogue)."""
    lines = ["schema = 1", f'version = "catalogue-{endpoints}"', "[policy]", 'exempt = ["first_party"]']
    ids = []
    for n in range(endpoints):
        method = ("GET", "POST", "DELETE")[n % 3]
        ids.append(f"r{n // 3}.items.{method.lower()}")
        lines += [
            "[[endpoints]]",
            f'id = "{ids[-1]}"',
            f'method = "{method}"',
            f'path = "/v1/r{n // 3}/items/{{id}}"',
            f'surface = "s{n % 8}"',
        ]
    named = ", ".join(f'"{endpoint_id}"' for endpoint_id in ids[::10])
    lines += [
        "[plans.basic]",
        "tier = 0",
        'grants = [{ endpoints = ["r1*"], methods = ["GET"] }]',
        "[plans.pro]",
        "tier = 1",
        f"grants = [{{ endpoints = [{named}] }}]",
        "[clients.web]",
        'class = "web"',
        "first_party = true",
        'key = "gw467-bench-web-key"',
        "[clients.app]",
        'class = "third_party"',
        "first_party = false",
        'key = "gw467-bench-app-key"',
        'plan = "pro"',
    ]
    return "\n".join(lines) + "\n"
