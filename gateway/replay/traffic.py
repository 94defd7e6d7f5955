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
from typing import Protocol

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


class Traffic(Protocol):
    """Where a replay's requests come from: the scenario's model, or a recorded log."""

    def minute(self, minute: int, seed: int) -> list[VirtualRequest]: ...


@dataclass(frozen=True)
class _Target:
    """An endpoint as the traffic draws it: its fields, and its path template split once."""

    endpoint_id: str
    surface: str
    method: str
    path: PathTemplate


@dataclass(frozen=True)
class _Source:
    client_id: str
    authorization: bytes
    per_minute: float
    targets: tuple[_Target, ...]
    cumulative_weights: tuple[float, ...]


class TrafficModel:
    """The scenario's traffic sources, resolved against its initial catalogue."""

    def __init__(self, scenario: Scenario, plan_set: PlanSet) -> None:
        self._scenario = scenario
        sources = []
        for source in scenario.traffic:
            endpoints = [plan_set.endpoint(endpoint_id) for endpoint_id, _ in source.mix]
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
                    tuple(_target(endpoint) for endpoint in endpoints),
                    tuple(cumulative),
                )
            )
        self._sources = tuple(sources)

    def minute(self, minute: int, seed: int) -> list[VirtualRequest]:
        """Every request of `minute`, in time order."""
        rng = random.Random(f"gw467:{seed}:{minute}")
        draw = rng.random
        factor = self._scenario.load_factor(minute)
        requests: list[VirtualRequest] = []
        append = requests.append
        for source in self._sources:
            count = _poisson(rng, source.per_minute * factor)
            chosen = rng.choices(source.targets, cum_weights=source.cumulative_weights, k=count)
            client_id, authorization = source.client_id, source.authorization
            for target in chosen:
                # The draws in this order, per request: its second, then its path's parameters.
                second = draw() * 60.0
                append(
                    VirtualRequest(
                        second,
                        client_id,
                        target.endpoint_id,
                        target.surface,
                        target.method,
                        target.path.concrete(rng),
                        authorization,
                    )
                )
        requests.sort(key=_second)
        return requests


def _target(endpoint: Endpoint) -> _Target:
    return _Target(endpoint.id, endpoint.surface, endpoint.method, PathTemplate.parse(endpoint.path))


def _second(request: VirtualRequest) -> float:
    return request.second


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


@dataclass(frozen=True)
class PathTemplate:
    """A path template split at its slashes once: literal segments, and parameter names to fill."""

    template: str
    # (segment, its parameter's name or None) per segment; None when the template has no parameter.
    segments: tuple[tuple[str, str | None], ...] | None

    @classmethod
    def parse(cls, template: str) -> PathTemplate:
        if "{" not in template:
            return cls(template, None)
        parts = template.split("/")
        return cls(template, tuple((part, part[1:-1] if part.startswith("{") else None) for part in parts))

    def concrete(self, rng: random.Random) -> str:
        """A path that the template matches, with a plausible value for each parameter."""
        if self.segments is None:
            return self.template
        return "/".join(part if name is None else parameter_value(name, rng) for part, name in self.segments)


def concrete_path(template: str, rng: random.Random) -> str:
    """A path that the template matches, with a plausible value for each parameter."""
    return PathTemplate.parse(template).concrete(rng)


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
