"""The gateway's state store: one small interface, `StateStore`, and its in-memory implementation.

What the runtime keeps outside a process goes through this interface: quota counters, the
fleet's stage document and plan versions, the audit log, worker heartbeats, fleet SLI
counters and change notifications. `MemoryStore` (the default) keeps them in the process, so
the replay and a single-process gateway need nothing else; `gateway.stores.redis_store.RedisStore`
shares them across workers and instances. A store that cannot answer raises `StoreUnavailable`
(never hangs: the Redis one has short timeouts), and the runtime applies its failure policy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Protocol, runtime_checkable

# After a failed call, requests skip the store this long (answered by the failure policy at
# once) before one tries again: an outage costs a request no timeout, and recovery is seen
# within this time.
RETRY_SECONDS = 1.0


class StoreUnavailable(Exception):
    """The store did not answer (down, unreachable, or too slow); the message says which call."""


class StoreHealth:
    """Whether the store answered its last call, since when it has not, and when to try again."""

    def __init__(self) -> None:
        self.available = True
        self.down_since: float | None = None
        self.last_error: str | None = None
        self.failures = 0
        self._retry_at = 0.0

    def may_try(self, monotonic_now: float) -> bool:
        return self.available or monotonic_now >= self._retry_at

    def failed(self, monotonic_now: float, error: str, wall_now: float) -> bool:
        """Count a failure; True when the store was up until now."""
        was_up = self.available
        self.available = False
        self.failures += 1
        self.last_error = error
        self._retry_at = monotonic_now + RETRY_SECONDS
        if was_up:
            self.down_since = wall_now
        return was_up

    def succeeded(self) -> bool:
        """Record an answer; True when the store was down until now."""
        if self.available:
            return False
        self.available = True
        self.down_since = None
        return True


@runtime_checkable
class StateStore(Protocol):
    """What the runtime needs of a store. Keys and channels are plain strings; values are bytes."""

    @property
    def shared(self) -> bool:
        """Whether other processes see the same state (False: this process is the whole fleet)."""
        ...

    @property
    def description(self) -> str:
        """For the status page and logs: "memory" or the store's URL without a password."""
        ...

    async def count(self, key: str, ttl_seconds: int) -> int:
        """Add one to the counter `key` and return its new value; a new counter expires after
        `ttl_seconds`. One round trip."""
        ...

    async def add_counts(self, counts: Mapping[str, Mapping[str, int]], ttl_seconds: int) -> None:
        """Add each field's amount to the hash at each key (keys expire after `ttl_seconds`)."""
        ...

    async def read_counts(self, keys: list[str]) -> list[dict[str, int]]:
        """The hashes at `keys`, in order ({} for a missing key)."""
        ...

    async def get(self, key: str) -> bytes | None: ...

    async def put_new(self, key: str, value: bytes) -> bool:
        """Store `value` at `key` unless the key exists; whether it was stored."""
        ...

    async def swap(self, key: str, expected: bytes | None, value: bytes) -> bool:
        """Set `key` to `value` only if it still holds `expected` (None: absent); whether it did."""
        ...

    async def append(self, key: str, value: bytes, keep: int) -> None:
        """Append to the list at `key`, keeping its last `keep` entries."""
        ...

    async def tail(self, key: str, count: int) -> list[bytes]:
        """The last `count` entries of the list at `key`, oldest first."""
        ...

    async def beat(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Set `key` to `value` for `ttl_seconds` (a heartbeat)."""
        ...

    async def scan(self, prefix: str) -> dict[str, bytes]:
        """Every live key starting with `prefix`, with its value."""
        ...

    async def publish(self, channel: str, message: bytes) -> None: ...

    def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        """The messages published on `channel` from now on; raises StoreUnavailable when the
        connection is lost (the caller subscribes again)."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """The store inside one process: what a single gateway, the replay and the tests use.

    `shared`: several runtimes of this process share it, as the workers of a fleet share Redis
    (quotas are counted here, and their deployment is a fleet's); by default it is one runtime's.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, shared: bool = False) -> None:
        self._clock = clock
        self._shared = shared
        self._values: dict[str, tuple[bytes, float | None]] = {}
        self._counters: dict[str, tuple[int, float]] = {}
        self._hashes: dict[str, dict[str, int]] = {}
        self._lists: dict[str, list[bytes]] = {}
        self._subscribers: dict[str, list[asyncio.Queue[bytes]]] = {}

    @property
    def shared(self) -> bool:
        return self._shared

    @property
    def description(self) -> str:
        return "memory"

    async def count(self, key: str, ttl_seconds: int) -> int:
        now = self._clock()
        value, expires = self._counters.get(key, (0, now + ttl_seconds))
        if expires <= now:
            value, expires = 0, now + ttl_seconds
        self._counters[key] = (value + 1, expires)
        if len(self._counters) > 4096:
            self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        return value + 1

    async def add_counts(self, counts: Mapping[str, Mapping[str, int]], ttl_seconds: int) -> None:
        for key, fields in counts.items():
            held = self._hashes.setdefault(key, {})
            for field, amount in fields.items():
                held[field] = held.get(field, 0) + amount

    async def read_counts(self, keys: list[str]) -> list[dict[str, int]]:
        return [dict(self._hashes.get(key, {})) for key in keys]

    async def get(self, key: str) -> bytes | None:
        held = self._values.get(key)
        if held is None:
            return None
        value, expires = held
        if expires is not None and expires <= self._clock():
            del self._values[key]
            return None
        return value

    async def put_new(self, key: str, value: bytes) -> bool:
        if await self.get(key) is not None:
            return False
        self._values[key] = (value, None)
        return True

    async def swap(self, key: str, expected: bytes | None, value: bytes) -> bool:
        if await self.get(key) != expected:
            return False
        self._values[key] = (value, None)
        return True

    async def append(self, key: str, value: bytes, keep: int) -> None:
        entries = self._lists.setdefault(key, [])
        entries.append(value)
        del entries[:-keep]

    async def tail(self, key: str, count: int) -> list[bytes]:
        return list(self._lists.get(key, [])[-count:])

    async def beat(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._values[key] = (value, self._clock() + ttl_seconds)

    async def scan(self, prefix: str) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for key in [k for k in self._values if k.startswith(prefix)]:
            value = await self.get(key)
            if value is not None:
                found[key] = value
        return found

    async def publish(self, channel: str, message: bytes) -> None:
        for queue in self._subscribers.get(channel, []):
            queue.put_nowait(message)

    async def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._subscribers.setdefault(channel, []).append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[channel].remove(queue)

    async def close(self) -> None:
        return None
