"""Canary rollout: the candidate table enforces for a stable hashed slice of traffic only.

The slice is chosen by hashing (salt, client id, endpoint id), or the client id
alone with unit "client", so it is stable (the same client calling the same
endpoint is always on the same side) and no caller can pick its side: both the
client and the endpoint come from the decision, never from headers or path
spellings. The controller watches the slice's first-party requests over a
sliding window and trips when their error rate crosses the threshold.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass

UNITS = ("client-endpoint", "client")


@dataclass(frozen=True)
class CanaryPolicy:
    """How the canary runs: slice size and unit, and when to roll back."""

    fraction: float = 0.1
    unit: str = "client-endpoint"
    window_seconds: float = 60.0
    threshold: float = 0.05
    min_requests: int = 20
    salt: str = "gw467"

    def __post_init__(self) -> None:
        if not 0.0 < self.fraction <= 1.0:
            raise ValueError(f"canary fraction must be in (0, 1], got {self.fraction}")
        if self.unit not in UNITS:
            raise ValueError(f"canary unit must be one of {', '.join(UNITS)}, got {self.unit!r}")


def slice_position(salt: str, client_id: str, endpoint_id: str, unit: str) -> float:
    """Where a client (or client and endpoint) falls in [0, 1): stable across processes and runs."""
    key = client_id if unit == "client" else f"{client_id}\x00{endpoint_id}"
    digest = hashlib.blake2b(f"{salt}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class CanaryController:
    """Slice membership and the sliding-window error rate of the slice's first-party requests."""

    def __init__(self, policy: CanaryPolicy) -> None:
        self.policy = policy
        self._members: dict[tuple[str, str], bool] = {}
        self._window: deque[tuple[float, bool]] = deque()
        self._bad_in_window = 0
        self.requests = 0
        self.bad = 0
        self.tripped_reason: str | None = None

    def in_slice(self, client_id: str, endpoint_id: str) -> bool:
        key = (client_id, endpoint_id)
        member = self._members.get(key)
        if member is None:
            position = slice_position(self.policy.salt, client_id, endpoint_id, self.policy.unit)
            member = self._members[key] = position < self.policy.fraction
        return member

    def observe(self, now: float, first_party: bool, bad: bool) -> str | None:
        """Count one slice request; return why to roll back when the threshold is crossed."""
        self.requests += 1
        self.bad += bad
        if not first_party or self.tripped_reason is not None:
            return None
        window = self._window
        window.append((now, bad))
        self._bad_in_window += bad
        horizon = now - self.policy.window_seconds
        while window and window[0][0] < horizon:
            self._bad_in_window -= window.popleft()[1]
        count = len(window)
        if count >= self.policy.min_requests and self._bad_in_window / count > self.policy.threshold:
            rate = self._bad_in_window / count
            self.tripped_reason = (
                f"first-party error rate {rate:.1%} in the canary slice over the last "
                f"{self.policy.window_seconds:g}s (threshold {self.policy.threshold:.1%})"
            )
            return self.tripped_reason
        return None

    def summary(self) -> dict[str, object]:
        return {
            "fraction": self.policy.fraction,
            "unit": self.policy.unit,
            "requests": self.requests,
            "bad": self.bad,
            "tripped": self.tripped_reason,
        }
