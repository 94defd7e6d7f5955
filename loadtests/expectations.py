"""Which answers a correct gateway may give each client: the load test's notion of "expected".

First-party clients are exempt from plan checks, so anything but 2xx/3xx is unexpected
for them. A third-party app may be refused (467) or rate-limited (429) wherever a plan
file that may be in force during the run says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.core.compiler import compile_plan_set
from gateway.core.plans import PlanSet
from gateway.core.rules import STATUS_NOT_ENTITLED, STATUS_QUOTA


@dataclass(frozen=True)
class Expectations:
    """Clients known to be first-party, and the (client, endpoint) pairs a plan may deny or limit."""

    first_party: frozenset[str]
    may_deny: frozenset[tuple[str, str]]
    may_limit: frozenset[tuple[str, str]]

    def unexpected(self, client_id: str, endpoint_id: str, status: int) -> str | None:
        """Why `status` is not an answer a correct gateway gives here, or None when it is."""
        if 200 <= status < 400:
            return None
        if client_id in self.first_party:
            return f"first-party {client_id} answered {status or 'no response'}"
        if status == STATUS_NOT_ENTITLED and (client_id, endpoint_id) in self.may_deny:
            return None
        if status == STATUS_QUOTA and (client_id, endpoint_id) in self.may_limit:
            return None
        return f"third-party {client_id} answered {status or 'no response'}, which no plan in force explains"


def expectations_for(plan_sets: Iterable[PlanSet]) -> Expectations:
    """Expectations over every plan set that may be in force: a denial or a quota in any one counts."""
    first_party: set[str] = set()
    may_deny: set[tuple[str, str]] = set()
    may_limit: set[tuple[str, str]] = set()
    for plan_set in plan_sets:
        table = compile_plan_set(plan_set)
        for client in table.clients:
            if client.first_party:
                first_party.add(client.id)
                continue
            for endpoint, verdict in zip(table.endpoints, client.verdicts, strict=True):
                if not verdict.allowed:
                    may_deny.add((client.id, endpoint.id))
                elif verdict.quota is not None:
                    may_limit.add((client.id, endpoint.id))
    return Expectations(frozenset(first_party), frozenset(may_deny), frozenset(may_limit))
