"""Per-client request quotas in fixed windows, with Twitter's x-rate-limit-* headers.

Windows are aligned to multiples of the window length on the ledger's clock, so
every client's window resets at the same instants (as Twitter's 15-minute
windows did). The clock is injectable: the replay runs it on virtual time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.core.plans import Quota


def quota_rule(plan: str | None) -> str:
    """The rule text of a request refused with 429 by `plan`'s quota."""
    return f"quota:{plan}"


class QuotaLedger:
    """Counts granted requests per client and window; one ledger per gateway process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, int]] = {}

    def admit(self, client_id: str, quota: Quota) -> tuple[bool, list[tuple[bytes, bytes]]]:
        """Count one request; return whether it is within quota, and the rate-limit headers."""
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
        return admitted, headers

    def reset(self) -> None:
        self._counts.clear()
