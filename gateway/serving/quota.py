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
        window = int(now // quota.window_seconds)
        started, used = self._counts.get(client_id, (window, 0))
        if started != window:
            used = 0
        admitted = used < quota.requests
        if admitted:
            used += 1
        self._counts[client_id] = (window, used)
        reset = (window + 1) * quota.window_seconds
        headers = [
            (b"x-rate-limit-limit", str(quota.requests).encode()),
            (b"x-rate-limit-remaining", str(quota.requests - used).encode()),
            (b"x-rate-limit-reset", str(reset).encode()),
        ]
        if not admitted:
            # At least 1: a client told 0 would retry at once, into the same refusal.
            headers.append((b"retry-after", str(max(1, math.ceil(reset - now))).encode()))
        return admitted, headers

    def reset(self) -> None:
        self._counts.clear()
