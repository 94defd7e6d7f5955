"""Shadow evaluation: decide every request with a candidate table too, never enforce it, count divergences.

A divergence is a request one table forwards and the other refuses. They are
counted per client class, endpoint and direction, and a bounded sample of the
divergent requests is kept so an operator can see exactly who would lose what.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from gateway.core.decision import Decision

ALLOW_TO_DENY = "allow_to_deny"
DENY_TO_ALLOW = "deny_to_allow"
SAMPLE_SIZE = 50


@dataclass(frozen=True)
class Divergence:
    """One request decided differently: who, what, and the two deciding rules."""

    method: str
    path: str
    client_id: str
    client_class: str
    first_party: bool
    endpoint_id: str
    direction: str
    active_rule: str
    candidate_rule: str


class ShadowRecorder:
    """Counts of divergences between the active table and a shadowed candidate."""

    def __init__(self, candidate_version: str, sample_size: int = SAMPLE_SIZE) -> None:
        self.candidate_version = candidate_version
        self.observed = 0
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.first_party_losses = 0
        self.sample: list[Divergence] = []
        self._sample_size = sample_size

    def observe(self, method: str, raw_path: str, active: Decision, candidate: Decision) -> Divergence | None:
        """Compare the two decisions of one request; return the divergence, if any."""
        self.observed += 1
        if (active.status is None) == (candidate.status is None):
            return None
        client = active.client or candidate.client
        endpoint = active.endpoint or candidate.endpoint
        if client is None or endpoint is None:
            return None
        direction = ALLOW_TO_DENY if active.status is None else DENY_TO_ALLOW
        self.counts[(client.client_class, endpoint.id, direction)] += 1
        if direction == ALLOW_TO_DENY and client.first_party:
            self.first_party_losses += 1
        divergence = Divergence(
            method,
            raw_path,
            client.id,
            client.client_class,
            client.first_party,
            endpoint.id,
            direction,
            active.rule.text,
            candidate.rule.text,
        )
        if len(self.sample) < self._sample_size:
            self.sample.append(divergence)
        return divergence

    @property
    def divergent(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> dict[str, object]:
        return {
            "candidate": self.candidate_version,
            "observed": self.observed,
            "divergent": self.divergent,
            "first_party_allow_to_deny": self.first_party_losses,
            "by_class_endpoint": [
                {"client_class": c, "endpoint": e, "direction": d, "count": n}
                for (c, e, d), n in sorted(self.counts.items())
            ],
            "sample": [d.__dict__ for d in self.sample],
        }
