"""Virtual traffic: the requests each client sends in each minute of a scenario, from a seed.

Open-loop and deterministic: minute m's requests depend only on (seed, m) and the
traffic model, never on how earlier requests were answered, so every replay of a
scenario (with any safety layer) faces exactly the same traffic.
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass

from gateway.core.plans import Endpoint, PlanSet
from gateway.replay.scenario import Scenario

_CODE_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class VirtualRequest:
    """One request of the replay: when (seconds into its minute), who, and what."""

    second: float
    client_id: str
    endpoint_id: str
    surface: str
    method: str
    raw_path: str
    authorization: bytes


@dataclass(frozen=True)
class _Source:
    client_id: str
    authorization: bytes
    per_minute: float
    endpoints: tuple[Endpoint, ...]
    cumulative_weights: tuple[float, ...]


class TrafficModel:
    """The scenario's traffic sources, resolved against its initial catalogue."""

    def __init__(self, scenario: Scenario, plan_set: PlanSet) -> None:
        self._scenario = scenario
        sources = []
        for source in scenario.traffic:
            endpoints = tuple(plan_set.endpoint(endpoint_id) for endpoint_id, _ in source.mix)
            total = 0.0
            cumulative = []
            for _, weight in source.mix:
                total += weight
                cumulative.append(total)
            sources.append(
                _Source(
                    source.client_id,
                    f"Bearer {source.key}".encode(),
                    source.per_minute,
                    endpoints,
                    tuple(cumulative),
                )
            )
        self._sources = tuple(sources)

    def minute(self, minute: int, seed: int) -> list[VirtualRequest]:
        """Every request of `minute`, in time order."""
        rng = random.Random(f"gw467:{seed}:{minute}")
        factor = self._scenario.load_factor(minute)
        requests: list[VirtualRequest] = []
        for source in self._sources:
            count = _poisson(rng, source.per_minute * factor)
            chosen = rng.choices(source.endpoints, cum_weights=source.cumulative_weights, k=count)
            for endpoint in chosen:
                requests.append(
                    VirtualRequest(
                        second=rng.random() * 60.0,
                        client_id=source.client_id,
                        endpoint_id=endpoint.id,
                        surface=endpoint.surface,
                        method=endpoint.method,
                        raw_path=concrete_path(endpoint.path, rng),
                        authorization=source.authorization,
                    )
                )
        requests.sort(key=lambda request: request.second)
        return requests


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: exact (Knuth) for small means, the normal approximation for large ones."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def concrete_path(template: str, rng: random.Random) -> str:
    """A path that the template matches, with a plausible value for each parameter."""
    if "{" not in template:
        return template
    parts = []
    for part in template.split("/"):
        parts.append(parameter_value(part[1:-1], rng) if part.startswith("{") else part)
    return "/".join(parts)


def parameter_value(name: str, rng: random.Random) -> str:
    """A value shaped like the real thing: t.co codes, media keys, user names, tweet ids."""
    if name == "code":
        return "".join(rng.choices(_CODE_ALPHABET, k=10))
    if name == "media_key":
        return f"3_{rng.randrange(10**18, 10**19)}"
    if name == "username":
        return f"user{rng.randrange(1, 10**6)}"
    if name in ("column_id",):
        return str(rng.randrange(1, 10**6))
    return str(rng.randrange(10**17, 10**19))
