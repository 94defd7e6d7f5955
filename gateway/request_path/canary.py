"""Canary rollout: the candidate table enforces for a slice of requests drawn in every client class.

The slice is drawn per request and stratified by client class: each class's requests are
counted in blocks of d (the fraction as n/d, d <= 100), and in every block exactly n
positions, drawn by a random generator seeded with (salt, class), are in the slice. So
every class present in the traffic is in the slice, in the declared share (exactly, per
complete block), the draw is the same for the same salt and the same order of requests
(the replay is deterministic), and no caller can choose its side: the class comes from the
authenticated client, and which of a block's positions are in is the generator's.
A hash of (client, endpoint) pairs could leave a whole class out (no t.co pair fell in
a 10% slice), which is the blind spot of 6 March taught backwards.
The controller judges the slice's first-party requests together (quick when everything
breaks) and each first-party class on its own (a small class failing alone hides in the
pooled rate: login is 4% of first-party traffic): it trips when either error rate over
the window crosses the threshold. A class too quiet to bring `min_requests` within the
window is judged on its last `min_requests` requests, late rather than never.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass
from fractions import Fraction

UNITS = ("request",)
MAX_BLOCK = 100


@dataclass(frozen=True)
class CanaryPolicy:
    """How the canary runs: slice size and unit, and when to roll back."""

    fraction: float = 0.1
    unit: str = "request"
    window_seconds: float = 60.0
    threshold: float = 0.05
    min_requests: int = 20
    salt: str = "gw467"

    def __post_init__(self) -> None:
        if not 0.0 < self.fraction <= 1.0:
            raise ValueError(f"canary fraction must be in (0, 1], got {self.fraction}")
        if self.unit not in UNITS:
            raise ValueError(f"canary unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if self.min_requests < 1:
            raise ValueError(f"canary min_requests must be at least 1, got {self.min_requests}")

    @property
    def share(self) -> Fraction:
        """The fraction as n/d with d <= MAX_BLOCK: n of every d requests of a class are in."""
        share = Fraction(self.fraction).limit_denominator(MAX_BLOCK)
        return share if share > 0 else Fraction(1, MAX_BLOCK)


class ClassDraw:
    """One class's draw: which positions of the current block of its requests are in the slice."""

    def __init__(self, policy: CanaryPolicy, client_class: str) -> None:
        share = policy.share
        self._in_block, self._block = share.numerator, share.denominator
        self._random = random.Random(f"{policy.salt}\x00{client_class}")
        self._members: frozenset[int] = frozenset()
        self.seen = 0

    def next(self) -> bool:
        position = self.seen % self._block
        if position == 0:
            self._members = frozenset(self._random.sample(range(self._block), self._in_block))
        self.seen += 1
        return position in self._members


class ErrorWindow:
    """Requests and failures over the last window_seconds, and at least the last min_requests."""

    def __init__(self, policy: CanaryPolicy) -> None:
        self._policy = policy
        self._requests: deque[tuple[float, bool]] = deque()
        self._bad = 0

    def add(self, now: float, bad: bool) -> tuple[int, float, float] | None:
        """Count one request; (requests, error rate, span in seconds) once over the threshold."""
        policy, requests = self._policy, self._requests
        requests.append((now, bad))
        self._bad += bad
        horizon = now - policy.window_seconds
        while len(requests) > policy.min_requests and requests[0][0] < horizon:
            self._bad -= requests.popleft()[1]
        count = len(requests)
        rate = self._bad / count
        if count >= policy.min_requests and rate > policy.threshold:
            return count, rate, max(policy.window_seconds, now - requests[0][0])
        return None


class CanaryController:
    """Slice membership per request, and each first-party class's error rate in the slice."""

    def __init__(self, policy: CanaryPolicy) -> None:
        self.policy = policy
        self._draws: dict[str, ClassDraw] = {}
        self._pooled = ErrorWindow(policy)
        self._windows: dict[str, ErrorWindow] = {}
        self.slice_requests: Counter[str] = Counter()  # requests in the slice, by class
        self.requests = 0
        self.bad = 0
        self.tripped_reason: str | None = None

    def in_slice(self, client_class: str) -> bool:
        """Draw this request of `client_class`: in the slice or not (see the module docstring)."""
        draw = self._draws.get(client_class)
        if draw is None:
            draw = self._draws[client_class] = ClassDraw(self.policy, client_class)
        member = draw.next()
        if member:
            self.slice_requests[client_class] += 1
        return member

    def composition(self) -> str:
        """The slice by class, as the canary's events print it: 'web 90 of 900, tco 60 of 600'."""
        parts = [
            f"{name} {self.slice_requests[name]:,} of {draw.seen:,}"
            for name, draw in sorted(self._draws.items())
        ]
        return ", ".join(parts) if parts else "no requests yet"

    def observe(self, now: float, client_class: str, first_party: bool, bad: bool) -> str | None:
        """Count one slice request; return why to roll back when a class crosses the threshold."""
        self.requests += 1
        self.bad += bad
        if not first_party or self.tripped_reason is not None:
            return None
        window = self._windows.get(client_class)
        if window is None:
            window = self._windows[client_class] = ErrorWindow(self.policy)
        by_class = window.add(now, bad)
        pooled = self._pooled.add(now, bad)
        if by_class is not None:
            self.tripped_reason = self._reason(f"{client_class}'s first-party", *by_class)
        elif pooled is not None:
            self.tripped_reason = self._reason("first-party", *pooled)
        return self.tripped_reason

    def _reason(self, whose: str, count: int, rate: float, span: float) -> str:
        return (
            f"{whose} error rate {rate:.1%} in the canary slice ({count} requests over the last "
            f"{span:.0f}s; threshold {self.policy.threshold:.1%})"
        )

    def summary(self) -> dict[str, object]:
        return {
            "fraction": self.policy.fraction,
            "unit": self.policy.unit,
            "requests": self.requests,
            "bad": self.bad,
            "slice": {name: self.slice_requests[name] for name in sorted(self._draws)},
            "drawn_from": {name: draw.seen for name, draw in sorted(self._draws.items())},
            "tripped": self.tripped_reason,
        }
