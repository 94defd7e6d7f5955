"""`FleetCounters`: the whole fleet's request counts, behind its status page, alert and canary.

Each worker adds its outcomes to per-minute counters in the store (sent once a second, kept for
the next send while the store is away); the status page reads the fleet's counts back, and the
canary's slice is judged on its fleet-wide first-party error rate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gateway.control_plane.fleet.keys import CANARY_KEY, SLI_KEY
from gateway.request_path.canary import CanaryController
from gateway.request_path.runtime import Gateway
from gateway.request_path.slo import DEFAULT_RETENTION_SECONDS, AvailabilityTracker
from gateway.stores.state_store import StoreUnavailable

SLI_BUCKET_SECONDS = 60
CANARY_BUCKET_SECONDS = 5
FLUSH_SECONDS = 1.0


class FleetCounters:
    """One worker's share of the fleet's counts. `candidate` says which version's canary the
    worker runs now (its hash), `trip` rolls that canary back fleet-wide."""

    def __init__(
        self,
        gateway: Gateway,
        candidate: Callable[[], str | None],
        trip: Callable[[CanaryController, str], None],
    ) -> None:
        self.gateway = gateway
        self.store = gateway.store
        self._candidate = candidate
        self._trip = trip
        self._pending: dict[str, dict[str, int]] = {}
        gateway.on_record = self.record

    def record(
        self, client_class: str, first_party: bool, bad: bool, server_error: bool, now: float, in_canary: bool
    ) -> None:
        """Count one outcome towards the fleet's counters (sent by `flush`)."""
        pending = self._pending
        bucket = int(now // SLI_BUCKET_SECONDS) * SLI_BUCKET_SECONDS
        fields = pending.get(SLI_KEY + str(bucket))
        if fields is None:
            fields = pending[SLI_KEY + str(bucket)] = {}
        prefix = f"{client_class}|{1 if first_party else 0}|"
        fields[prefix + "t"] = fields.get(prefix + "t", 0) + 1
        if bad:
            fields[prefix + "b"] = fields.get(prefix + "b", 0) + 1
        if server_error:
            fields[prefix + "s"] = fields.get(prefix + "s", 0) + 1
        candidate = self._candidate()
        if in_canary and first_party and candidate is not None:
            slot = int(now // CANARY_BUCKET_SECONDS) * CANARY_BUCKET_SECONDS
            key = f"{CANARY_KEY}{candidate}:{slot}"
            counts = pending.setdefault(key, {})
            counts["t"] = counts.get("t", 0) + 1
            if bad:
                counts["b"] = counts.get("b", 0) + 1

    async def flush(self) -> None:
        """Send the counts gathered since the last flush; kept for the next one if the store is away."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            await self.store.add_counts(pending, int(DEFAULT_RETENTION_SECONDS) + 2 * SLI_BUCKET_SECONDS)
        except StoreUnavailable:
            for key, fields in pending.items():
                held = self._pending.setdefault(key, {})
                for name, amount in fields.items():
                    held[name] = held.get(name, 0) + amount
            raise

    async def availability(self) -> AvailabilityTracker:
        """The whole fleet's request counts over the retention, in a tracker of minute buckets."""
        now = self.gateway.clock()
        last = int(now // SLI_BUCKET_SECONDS)
        first = last - int(DEFAULT_RETENTION_SECONDS // SLI_BUCKET_SECONDS) + 1
        buckets = [n * SLI_BUCKET_SECONDS for n in range(first, last + 1)]
        found = await self.store.read_counts([SLI_KEY + str(bucket) for bucket in buckets])
        tracker = AvailabilityTracker(SLI_BUCKET_SECONDS, DEFAULT_RETENTION_SECONDS)
        for bucket, fields in zip(buckets, found, strict=True):
            classes: dict[tuple[str, bool], list[int]] = {}
            for name, amount in fields.items():
                client_class, party, kind = name.rsplit("|", 2)
                counts = classes.setdefault((client_class, party == "1"), [0, 0, 0])
                counts["tbs".index(kind)] += amount
            for (client_class, first_party), (total, bad, server_errors) in sorted(classes.items()):
                tracker.record_counts(client_class, first_party, bucket, total, bad, server_errors)
        return tracker

    async def check_canary(self) -> None:
        """Roll a canary back, once for the fleet, when the slice's fleet-wide first-party error
        rate over the policy's window crosses its threshold."""
        candidate = self._candidate()
        canary = self.gateway.in_force.stage.canary
        if candidate is None or canary is None:
            return
        policy = canary.policy
        now = self.gateway.clock()
        last = int(now // CANARY_BUCKET_SECONDS)
        slots = range(last - max(1, int(policy.window_seconds // CANARY_BUCKET_SECONDS)) + 1, last + 1)
        keys = [f"{CANARY_KEY}{candidate}:{slot * CANARY_BUCKET_SECONDS}" for slot in slots]
        found = await self.store.read_counts(keys)
        total = sum(fields.get("t", 0) for fields in found)
        bad = sum(fields.get("b", 0) for fields in found)
        if total >= policy.min_requests and bad / total > policy.threshold:
            reason = (
                f"canary: fleet-wide first-party error rate {bad / total:.1%} in the canary slice over "
                f"the last {policy.window_seconds:g}s (threshold {policy.threshold:.1%})"
            )
            self._trip(canary, reason)

    async def flushes(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
                await self.check_canary()
            except StoreUnavailable as error:
                self.gateway.store_call_failed("flush", error)
