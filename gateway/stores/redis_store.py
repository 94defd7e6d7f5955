"""`RedisStore`: the state store shared by every worker and instance, on Redis (redis-py's asyncio client).

Every call has a short deadline (`timeout`, default 0.25 s) and one immediate retry, so an
outage costs a request at most twice that and turns into `StoreUnavailable`, never a hang; the
client reconnects by itself on the next call once Redis is back. A quota check is one round
trip, one Lua script (INCR, and EXPIRE when the counter is new: atomic, and about half the
client time of a MULTI/EXEC pipeline of INCR and EXPIRE NX); so is a compare-and-set.
`open_store` picks this store or `MemoryStore` from a URL. Needs the `fleet` extra (`redis>=5`).

Redis AUTH and TLS: the password comes from GW467_STORE_PASSWORD_FILE (a file only its owner
may read) or GW467_STORE_PASSWORD, not from the URL on a command line, where `ps` shows it; a
`rediss://` URL is TLS, checked against the system's CAs or GW467_STORE_CA_FILE. Every message
names the store by its redacted URL (no user, password or query). GW467_STORE_NAMESPACE puts
every key and channel under a prefix of its own, so two fleets can share one Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

try:
    import redis.asyncio as redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
except ModuleNotFoundError:  # without the `fleet` extra: only MemoryStore can be opened
    HAVE_REDIS = False
else:
    HAVE_REDIS = True

from gateway.core.extras import MissingExtra
from gateway.stores.private_files import owner_only_file
from gateway.stores.state_store import MemoryStore, StateStore, StoreUnavailable

PASSWORD_VARIABLE = "GW467_STORE_PASSWORD"
PASSWORD_FILE_VARIABLE = "GW467_STORE_PASSWORD_FILE"
CA_FILE_VARIABLE = "GW467_STORE_CA_FILE"
NAMESPACE_VARIABLE = "GW467_STORE_NAMESPACE"
NAMESPACE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")  # no glob character: keys are scanned by prefix
DEFAULT_TIMEOUT = 0.25
_T = TypeVar("_T")

_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""

# KEYS[1]; ARGV[1] expected ("" with ARGV[3] == "1": absent), ARGV[2] new value.
_SWAP = """
local held = redis.call('GET', KEYS[1])
if ARGV[3] == '1' then
  if held then return 0 end
elseif held ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""


class RedisStore:
    """A `StateStore` on the Redis server at `url` (redis://host:port/db)."""

    def __init__(
        self, url: str, timeout: float = DEFAULT_TIMEOUT, environment: Mapping[str, str] = os.environ
    ) -> None:
        if not HAVE_REDIS:
            raise MissingExtra("redis", f"store {redact(url)}")
        self.url = url
        self.timeout = timeout
        namespace = environment.get(NAMESPACE_VARIABLE, "")
        if namespace and not NAMESPACE.fullmatch(namespace):
            raise ValueError(f"{NAMESPACE_VARIABLE}={namespace!r}: use letters, digits, '-', '_' and '.'")
        self._prefix = f"{namespace}:" if namespace else ""
        security: dict[str, Any] = {}
        password = store_password(environment)
        if password is not None and urlsplit(url).password is None:
            security["password"] = password
        if urlsplit(url).scheme == "rediss" and environment.get(CA_FILE_VARIABLE):
            security["ssl_ca_certs"] = environment[CA_FILE_VARIABLE]
        self._client = redis.Redis.from_url(
            url,
            **security,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # One immediate retry: after a restart of Redis the pooled connection is dead, and
            # the retry reconnects; against a Redis that is down it is one more refused connect.
            retry=Retry(NoBackoff(), 1),
            health_check_interval=0,
        )
        self._swap = self._client.register_script(_SWAP)
        self._count = self._client.register_script(_COUNT)

    @property
    def shared(self) -> bool:
        return True

    @property
    def description(self) -> str:
        return redact(self.url)

    async def _call(self, what: str, call: Awaitable[_T]) -> _T:
        try:
            async with asyncio.timeout(self.timeout * 2):  # no task per call, unlike wait_for
                return await call
        except (RedisError, OSError, TimeoutError) as error:
            raise StoreUnavailable(f"redis {what}: {type(error).__name__}: {error}") from None

    async def count(self, key: str, ttl_seconds: int) -> int:
        return int(await self._call("count", self._count(keys=[self._prefix + key], args=[ttl_seconds])))

    async def add_counts(self, counts: Mapping[str, Mapping[str, int]], ttl_seconds: int) -> None:
        async def run() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, fields in counts.items():
                    for field, amount in fields.items():
                        pipe.hincrby(self._prefix + key, field, amount)
                    pipe.expire(self._prefix + key, ttl_seconds)
                await pipe.execute()

        await self._call("add_counts", run())

    async def read_counts(self, keys: list[str]) -> list[dict[str, int]]:
        async def run() -> list[dict[str, int]]:
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hgetall(self._prefix + key)
                found: list[dict[bytes, bytes]] = await pipe.execute()
            return [{k.decode(): int(v) for k, v in held.items()} for held in found]

        return await self._call("read_counts", run())

    async def get(self, key: str) -> bytes | None:
        value = await self._call("get", self._client.get(self._prefix + key))
        return value if value is None else _as_bytes(value)

    async def put_new(self, key: str, value: bytes) -> bool:
        return bool(await self._call("put_new", self._client.set(self._prefix + key, value, nx=True)))

    async def swap(self, key: str, expected: bytes | None, value: bytes) -> bool:
        absent = "1" if expected is None else "0"
        args: list[Any] = [expected or b"", value, absent]
        return bool(await self._call("swap", self._swap(keys=[self._prefix + key], args=args)))

    async def append(self, key: str, value: bytes, keep: int) -> None:
        async def run() -> None:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.rpush(self._prefix + key, value)
                pipe.ltrim(self._prefix + key, -keep, -1)
                await pipe.execute()

        await self._call("append", run())

    async def tail(self, key: str, count: int) -> list[bytes]:
        entries = await self._call("tail", self._client.lrange(self._prefix + key, -count, -1))
        return [_as_bytes(entry) for entry in entries]

    async def beat(self, key: str, value: bytes, ttl_seconds: float) -> None:
        await self._call(
            "beat", self._client.set(self._prefix + key, value, px=max(1, int(ttl_seconds * 1000)))
        )

    async def scan(self, prefix: str) -> dict[str, bytes]:
        async def run() -> dict[str, bytes]:
            match = f"{self._prefix}{prefix}*"
            keys = [key async for key in self._client.scan_iter(match=match, count=500)]
            if not keys:
                return {}
            values = await self._client.mget(keys)
            start = len(self._prefix)
            return {
                k.decode()[start:]: _as_bytes(v) for k, v in zip(keys, values, strict=True) if v is not None
            }

        return await self._call("scan", run())

    async def publish(self, channel: str, message: bytes) -> None:
        await self._call("publish", self._client.publish(self._prefix + channel, message))

    async def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await self._call("subscribe", pubsub.subscribe(self._prefix + channel))
            while True:
                try:
                    message = await pubsub.get_message(timeout=1.0)
                except (RedisError, OSError) as error:
                    raise StoreUnavailable(f"redis subscribe: {type(error).__name__}: {error}") from None
                if message is not None and message.get("type") == "message":
                    yield bytes(message["data"])
        finally:
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                # Typed here: some redis-py releases leave PubSub.aclose unannotated, others annotate it.
                close_pubsub: Callable[[], Awaitable[None]] = pubsub.aclose
                await asyncio.wait_for(close_pubsub(), self.timeout)

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await asyncio.wait_for(self._client.aclose(), self.timeout)


def store_password(environment: Mapping[str, str] = os.environ) -> str | None:
    """The store's password from GW467_STORE_PASSWORD_FILE (owner-only, else TrustError), else
    GW467_STORE_PASSWORD, else None."""
    path = environment.get(PASSWORD_FILE_VARIABLE)
    if not path:
        return environment.get(PASSWORD_VARIABLE) or None
    return owner_only_file(PASSWORD_FILE_VARIABLE, path).decode() or None


def redact(url: str) -> str:
    """The store's URL without its user, password or query: what may be printed or logged."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _as_bytes(value: bytes | str) -> bytes:
    # The client is built without decode_responses, so replies are bytes; the stubs allow str.
    return value if isinstance(value, bytes) else value.encode()


def open_store(url: str) -> StateStore:
    """The store a URL names: "memory", or redis://host:port/db."""
    if url == "memory":
        return MemoryStore()
    if urlsplit(url).scheme in ("redis", "rediss", "unix"):
        return RedisStore(url)
    raise ValueError(f"store {url!r}: use memory or redis://HOST:PORT/DB")
