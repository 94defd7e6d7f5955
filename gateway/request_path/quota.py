"""Per-client request quotas in fixed windows, with Twitter's x-rate-limit-* headers.

A refused request also gets `Retry-After`: the whole seconds until its window resets.

Windows are aligned to multiples of the window length on the ledger's clock, so
every client's window resets at the same instants (as Twitter's 15-minute
windows did). The clock is injectable: the replay runs it on virtual time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from gateway.core.plans import Quota


class QuotaLedger:
    """Counts granted requests per client and window; one ledger per gateway process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, int]] = {}

    def admit(self, client_id: str, quota: Quota) -> tuple[bool, list[tuple[bytes, bytes]]]:
        """Count one request; return whether it is within quota, and the rate-limit headers
        (with `retry-after` when it is not)."""
        now = self._clock()
        window = window_of(quota, now)
        started, used = self._counts.get(client_id, (window, 0))
        if started != window:
            used = 0
        admitted = used < quota.requests
        if admitted:
            used += 1
        self._counts[client_id] = (window, used)
        # A refused request counts as one over the limit, as in the shared counter.
        return admitted, quota_headers(quota, window, used if admitted else used + 1, now)

    def reset(self) -> None:
        self._counts.clear()


def window_of(quota: Quota, now: float) -> int:
    """The index of the window `now` falls in: windows are aligned to multiples of their length."""
    return int(now // quota.window_seconds)


def quota_headers(quota: Quota, window: int, used: int, now: float) -> list[tuple[bytes, bytes]]:
    """The x-rate-limit-* headers after `used` requests were counted in `window` (more than the
    limit: refused, with `retry-after`). One definition, for the local ledger and the shared one."""
    reset = (window + 1) * quota.window_seconds
    remaining = max(0, quota.requests - used)
    headers = [
        (b"x-rate-limit-limit", str(quota.requests).encode()),
        (b"x-rate-limit-remaining", str(remaining).encode()),
        (b"x-rate-limit-reset", str(reset).encode()),
    ]
    if used > quota.requests:
        # At least 1: a client told 0 would retry at once, into the same refusal.
        headers.append((b"retry-after", str(max(1, math.ceil(reset - now))).encode()))
    return headers
