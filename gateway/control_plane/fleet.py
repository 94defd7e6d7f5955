"""`Fleet`: config distribution for gateways that share a store (control plane and data plane).

The control plane (the admin API of any worker) validates and compiles a pushed file, stores
it as an immutable version keyed by its SHA-256, changes the fleet's stage document (active
version, candidate, mode, canary policy, history) with a compare-and-set, appends an audit
record (who, when, why) and publishes. Every data plane (each worker of each instance) reads
the document, compiles the versions it names, and swaps its stage atomically; one that
cannot (a version it cannot compile, or whose text does not match its hash) keeps its last
good table and reports the refusal in its heartbeat. Each worker writes its last good stage
and plan texts to `<state dir>/last-good.json` and starts from it, so a worker restarted
while the store is away comes back on its last good version, not the file it was started
with. Workers heartbeat (id, pid, host, versions, generation) with a TTL; `deployment()` lists
the live ones and says whether they have converged. The store is not trusted blindly
(`gateway.control_plane.fleet_trust`): the stage document is signed with the fleet secret, a worker
refuses (and audits) one that is not, and the last good version lives in a private directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from gateway.control_plane.fleet_trust import fleet_secret, sign, verified
from gateway.control_plane.off_loop import built_off_the_loop
from gateway.core.compiler import compile_plan_set
from gateway.core.config import ConfigError
from gateway.core.decision import DecisionTable
from gateway.core.planfile import parse_plan_set
from gateway.core.plans import plan_hash
from gateway.request_path.canary import CanaryController, CanaryPolicy
from gateway.request_path.decision_log import OPERATIONS
from gateway.request_path.runtime import Gateway
from gateway.request_path.shadow import ShadowRecorder
from gateway.request_path.slo import DEFAULT_RETENTION_SECONDS, AvailabilityTracker
from gateway.request_path.stage import CANARY, DIRECT, SHADOW, RolloutError, Stage, check_same_parties
from gateway.stores.private_files import TrustError, private_directory, read_private, write_private
from gateway.stores.state_store import StateStore, StoreUnavailable

STAGE_KEY = "gw467:fleet:stage"
PLAN_KEY = "gw467:fleet:plan:"
AUDIT_KEY = "gw467:fleet:audit"
WORKER_PREFIX = "gw467:fleet:worker:"
CHANNEL = "gw467:fleet:changes"
HEARTBEAT_SECONDS = 0.5
WORKER_TTL_SECONDS = 3.0
HISTORY_LIMIT = 20
AUDIT_LIMIT = 1000
LAST_GOOD_FILE = "last-good.json"
# A rollback to a hash prefix: shorter ones fit several versions too easily (`to=3`).
MIN_HASH_PREFIX = 8
CHANGE_ATTEMPTS = 50
SLI_KEY = "gw467:fleet:sli:"  # + bucket start; fields "<class>|<1 first-party, 0 not>|t, b or s"
CANARY_KEY = "gw467:fleet:canary:"  # + candidate hash + ":" + bucket start; fields t, b
SLI_BUCKET_SECONDS = 60
CANARY_BUCKET_SECONDS = 5
FLUSH_SECONDS = 1.0
CANCEL_RETRY_SECONDS = 0.5


def compile_version(digest: str, text: str) -> DecisionTable:
    """The table of a stored version, once its text is shown to be the one its hash names."""
    if plan_hash(text) != digest:
        raise ConfigError(f"<fleet version {digest[:12]}>", "", "the text does not match its hash")
    return compile_plan_set(parse_plan_set(text, f"<fleet version {digest[:12]}>"))


def _history_index(current: StageDocument, to: str) -> int:
    """Where version `to` (its name, or an unambiguous prefix of its hash of at least
    MIN_HASH_PREFIX characters) last stands in the history; RolloutError when nowhere, or when
    the prefix is too short or fits several versions: a rollback never picks one by chance."""
    history = current.history
    found = [i for i, digest in enumerate(history) if current.versions.get(digest) == to]
    if not found:
        if len(to) < MIN_HASH_PREFIX:
            raise RolloutError(
                f"version {to!r}: give its name, or at least {MIN_HASH_PREFIX} characters of its hash"
            )
        found = [i for i, digest in enumerate(history) if digest.startswith(to)]
        if len({history[i] for i in found}) > 1:
            raise RolloutError(f"hash prefix {to!r} fits several versions; give more of it")
    if not found:
        raise RolloutError(f"version {to!r} is not in the fleet's history")
    return found[-1]


async def cancel_and_wait(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel `tasks` and wait until every one has ended, cancelling again any that carried on.

    One cancel is not always enough on Python 3.11: a cancellation that arrives as an
    `asyncio.timeout` or `wait_for` expires can come out as a TimeoutError (here, a
    StoreUnavailable that the loops survive), and the loop goes round again. Then an
    exception a task ended with, other than its cancellation, is raised here.
    """
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_RETRY_SECONDS)
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


def default_state_dir() -> Path:
    """Where a worker keeps its last good version: $XDG_STATE_HOME/gw467, else ~/.local/state/gw467."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "gw467"


class FleetError(Exception):
    """A fleet operation that cannot be done now (the store is down, or too many racing changes)."""


@dataclass(frozen=True)
class StageDocument:
    """The fleet's stage: what every worker should run. Versions are named by their hash."""

    generation: int
    active: str
    candidate: str | None = None
    mode: str = "none"  # "none", "shadow" or "canary", as `Stage.mode`
    fraction: float | None = None
    unit: str | None = None
    history: tuple[str, ...] = ()
    versions: dict[str, str] = field(default_factory=dict)  # hash -> the file's version name
    action: str = "bootstrap"
    who: str = ""
    reason: str = ""
    at: float = 0.0

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> StageDocument:
        fields = json.loads(data)
        fields["history"] = tuple(fields.get("history", ()))
        return cls(**fields)

    def signed(self, secret: bytes) -> bytes:
        """The document as the store holds it: signed with the fleet secret."""
        return sign(self.encode(), secret)

    @classmethod
    def from_signed(cls, data: bytes, secret: bytes) -> StageDocument:
        """The document in `data`; TrustError when it is not signed with `secret`, ValueError
        (or KeyError, TypeError) when it is signed but is no stage document."""
        return cls.decode(verified(data, secret))

    def name(self, digest: str | None) -> str | None:
        return None if digest is None else self.versions.get(digest, digest[:12])

    def next(self, action: str, who: str, reason: str, at: float, **changes: Any) -> StageDocument:
        history = changes.pop("history", self.history)[-HISTORY_LIMIT:]
        versions = {d: v for d, v in {**self.versions, **changes.pop("versions", {})}.items()}
        kept = {*history, changes.get("active", self.active), changes.get("candidate", self.candidate)}
        return replace(
            self,
            generation=self.generation + 1,
            history=tuple(history),
            versions={d: v for d, v in versions.items() if d in kept},
            action=action,
            who=who,
            reason=reason,
            at=at,
            **changes,
        )


class Fleet:
    """One worker's part in the fleet: its data plane (sync, heartbeat) and the control plane's
    operations (push, promote, rollback), all on `gateway.store`."""

    def __init__(self, gateway: Gateway, state_dir: Path | None = None, secret: bytes | None = None) -> None:
        """`secret`: the fleet secret (by default from the environment, see `fleet_secret`).
        Raises FleetError when there is none, or when the state directory cannot be trusted."""
        self.gateway = gateway
        self.store: StateStore = gateway.store
        try:
            self.secret = secret if secret is not None else fleet_secret()
            self.state_dir = private_directory(state_dir or default_state_dir())
        except TrustError as error:
            raise FleetError(str(error)) from None
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.started_at = time.time()
        self.applied: StageDocument | None = None
        self.refused: dict[str, str] | None = None
        self._tables: dict[str, DecisionTable] = {}
        self._texts: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._trips: set[asyncio.Task[None]] = set()
        self._pending: dict[str, dict[str, int]] = {}
        self._untrusted: bytes | None = None  # the last stage refused for its signature
        gateway.on_canary_trip = self._canary_tripped
        gateway.on_record = self._record
        self._start_from_last_good()

    # The data plane.

    def _start_from_last_good(self) -> None:
        """Run the last good stage this machine wrote, if there is one (Kong's data planes do)."""
        path = self.state_dir / LAST_GOOD_FILE
        if not path.exists():
            return
        try:
            saved = json.loads(read_private(path))
            # Signed as the store's stage is: a file planted here is not started from.
            document = StageDocument.from_signed(saved["stage"].encode(), self.secret)
            for digest, text in saved["plans"].items():
                self._compile(digest, text)
            self._install(document)
        except TrustError as error:
            OPERATIONS.error(f"gw467: {path}: not used: {error}")
            return
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ConfigError, RolloutError) as error:
            OPERATIONS.error(f"gw467: {path}: not used ({type(error).__name__}: {error})")
            return
        OPERATIONS.info(f"gw467: started from {path}: version {self.gateway.table.version}")

    def _compile(self, digest: str, text: str) -> DecisionTable:
        table = self._tables.get(digest)
        if table is None:
            table = self._remember(digest, text, compile_version(digest, text))
        return table

    def _remember(self, digest: str, text: str, table: DecisionTable) -> DecisionTable:
        self._tables[digest] = table
        self._texts[digest] = text
        return table

    def _install(self, document: StageDocument) -> None:
        """Swap this worker's stage for the one `document` names (its tables are compiled)."""
        active = self._tables[document.active]
        candidate = self._tables[document.candidate] if document.candidate is not None else None
        current = self.gateway.rollout.stage
        same_candidate = candidate is not None and current.candidate is candidate
        shadow = canary = None
        if document.mode == SHADOW and candidate is not None:
            shadow = (
                current.shadow if same_candidate and current.shadow else ShadowRecorder(candidate.version)
            )
        elif document.mode == CANARY and candidate is not None:
            policy = CanaryPolicy(fraction=document.fraction or 0.1, unit=document.unit or "request")
            keep = same_candidate and current.canary is not None and current.canary.policy == policy
            canary = current.canary if keep else CanaryController(policy)
        stage = Stage(active, candidate, shadow=shadow, canary=canary)
        self.gateway.rollout.install(stage, f"fleet:{document.action}", document.reason, self.gateway.clock())
        self.applied = document

    async def sync(self) -> None:
        """Bring this worker to the fleet's stage document (bootstrapping the fleet if it has none)."""
        async with self._lock:
            held = await self.store.get(STAGE_KEY)
            if held is None:
                await self._bootstrap()
                return
            document = await self._trusted(held)
            if document is None:
                return
            if self.applied is not None and document.generation == self.applied.generation:
                return
            await self._apply(document)

    async def _trusted(self, held: bytes) -> StageDocument | None:
        """The stage document in `held`, or None when its signature does not verify: then this
        worker keeps its table, reports the refusal in its heartbeat and, once per such stage,
        writes an audit record (a change that did not come through the admin API)."""
        try:
            return StageDocument.from_signed(held, self.secret)
        except TrustError as error:
            problem = str(error)
        except (ValueError, KeyError, TypeError) as error:
            problem = f"the stage in the store cannot be read ({type(error).__name__})"
        if self._untrusted != held:
            self._untrusted = held
            OPERATIONS.error(
                f"gw467: refused the fleet's stage; kept version {self.gateway.table.version}: {problem}"
            )
            record = {
                "action": "refused:stage",
                "who": self.worker_id,
                "reason": problem,
                "at": self.gateway.clock(),
            }
            await self.store.append(AUDIT_KEY, json.dumps(record).encode(), AUDIT_LIMIT)
        self.refused = {"generation": "?", "error": problem}
        return None

    async def _bootstrap(self) -> None:
        table = self.gateway.table
        text = table.plan_set.text
        if not text:
            raise FleetError("fleet mode needs the gateway started from a plan file (its text is shared)")
        digest = plan_hash(text)
        self._tables[digest] = table
        self._texts[digest] = text
        await self.store.put_new(PLAN_KEY + digest, text.encode())
        document = StageDocument(1, digest, versions={digest: table.version}, at=self.gateway.clock())
        if await self.store.swap(STAGE_KEY, None, document.signed(self.secret)):
            await self._audit(document)
        held = await self.store.get(STAGE_KEY)
        if held is not None and (trusted := await self._trusted(held)) is not None:
            await self._apply(trusted)

    async def _fetch(self, document: StageDocument) -> str | None:
        """Compile the versions `document` names that this worker has not; why not, if it cannot."""
        for digest in (document.active, document.candidate):
            if digest is None or digest in self._tables:
                continue
            text = await self.store.get(PLAN_KEY + digest)
            try:
                if text is None:
                    raise ConfigError(f"<fleet version {digest[:12]}>", "", "not in the store")
                decoded = text.decode("utf-8")
                # In a worker thread: a large catalogue takes seconds, and requests go on meanwhile.
                table = await built_off_the_loop(compile_version, digest, decoded)
                self._remember(digest, decoded, table)
            except (ConfigError, UnicodeDecodeError) as error:
                return str(error)
        return None

    async def _apply(self, document: StageDocument) -> None:
        problem = await self._fetch(document)
        if problem is not None:
            self._refuse(document, problem)
            return
        try:
            self._install(document)
        except RolloutError as error:
            self._refuse(document, str(error))
            return
        self.refused = None
        self._write_last_good(document)

    def _refuse(self, document: StageDocument, error: str) -> None:
        if self.refused is None or self.refused.get("generation") != str(document.generation):
            OPERATIONS.error(
                f"gw467: refused fleet generation {document.generation}; kept version "
                f"{self.gateway.table.version}: {error}"
            )
        self.refused = {"generation": str(document.generation), "error": error}

    def _write_last_good(self, document: StageDocument) -> None:
        digests = [d for d in (document.active, document.candidate) if d is not None]
        stage = document.signed(self.secret).decode()
        saved = {"stage": stage, "plans": {d: self._texts[d] for d in digests}}
        try:
            write_private(self.state_dir / LAST_GOOD_FILE, json.dumps(saved).encode())
        except OSError as error:
            OPERATIONS.error(f"gw467: cannot write the last good version under {self.state_dir}: {error}")

    def heartbeat(self) -> dict[str, Any]:
        stage = self.gateway.rollout.stage
        applied = self.applied
        return {
            "id": self.worker_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "version": stage.active.version,
            "hash": applied.active if applied is not None else None,
            "candidate": stage.candidate.version if stage.candidate is not None else None,
            "mode": stage.mode,
            "generation": applied.generation if applied is not None else None,
            "refused": self.refused,
            "store_available": self.gateway.store_health.available,
            "started": self.started_at,
        }

    async def _beat(self) -> None:
        value = json.dumps(self.heartbeat()).encode()
        await self.store.beat(WORKER_PREFIX + self.worker_id, value, WORKER_TTL_SECONDS)

    async def _tick(self) -> None:
        try:
            await self.sync()
            await self._beat()
        except StoreUnavailable as error:
            self.gateway.store_call_failed("sync", error)
        else:
            self.gateway.store_call_succeeded()

    async def _listen(self) -> None:
        while True:
            try:
                async for _ in self.store.subscribe(CHANNEL):
                    await self._tick()
            except StoreUnavailable:
                await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _heartbeats(self) -> None:
        while True:
            await self._tick()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    # Fleet-wide SLIs.

    def _record(
        self, client_class: str, first_party: bool, bad: bool, server_error: bool, now: float, in_canary: bool
    ) -> None:
        """Count one outcome towards the fleet's counters (sent by `_flush`)."""
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
        applied = self.applied
        if in_canary and first_party and applied is not None and applied.candidate is not None:
            slot = int(now // CANARY_BUCKET_SECONDS) * CANARY_BUCKET_SECONDS
            key = f"{CANARY_KEY}{applied.candidate}:{slot}"
            counts = pending.setdefault(key, {})
            counts["t"] = counts.get("t", 0) + 1
            if bad:
                counts["b"] = counts.get("b", 0) + 1

    async def _flush(self) -> None:
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

    async def _check_canary(self) -> None:
        """Roll a canary back, once for the fleet, when the slice's fleet-wide first-party error
        rate over the policy's window crosses its threshold."""
        applied = self.applied
        canary = self.gateway.rollout.stage.canary
        if applied is None or applied.candidate is None or canary is None:
            return
        policy = canary.policy
        now = self.gateway.clock()
        last = int(now // CANARY_BUCKET_SECONDS)
        slots = range(last - max(1, int(policy.window_seconds // CANARY_BUCKET_SECONDS)) + 1, last + 1)
        keys = [f"{CANARY_KEY}{applied.candidate}:{slot * CANARY_BUCKET_SECONDS}" for slot in slots]
        found = await self.store.read_counts(keys)
        total = sum(fields.get("t", 0) for fields in found)
        bad = sum(fields.get("b", 0) for fields in found)
        if total >= policy.min_requests and bad / total > policy.threshold:
            reason = (
                f"canary: fleet-wide first-party error rate {bad / total:.1%} in the canary slice over "
                f"the last {policy.window_seconds:g}s (threshold {policy.threshold:.1%})"
            )
            self._canary_tripped(canary, reason)

    async def _flushes(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self._flush()
                await self._check_canary()
            except StoreUnavailable as error:
                self.gateway.store_call_failed("flush", error)

    async def start(self) -> None:
        """Join the fleet (or run on the last good version while the store is away) and keep in step."""
        await self._tick()
        self._tasks = [
            asyncio.create_task(self._heartbeats()),
            asyncio.create_task(self._listen()),
            asyncio.create_task(self._flushes()),
        ]

    async def stop(self) -> None:
        with contextlib.suppress(StoreUnavailable):
            await self._flush()  # the last second's counts
            # Leave the deployment document now rather than when the heartbeat expires.
            await self.store.beat(WORKER_PREFIX + self.worker_id, b"{}", 0.001)
        await cancel_and_wait([*self._tasks, *self._trips])
        self._tasks = []
        await self.store.close()

    # The control plane.

    async def _change(
        self, action: str, who: str, reason: str, make: Callable[[StageDocument], dict[str, Any] | None]
    ) -> StageDocument | None:
        """Change the stage document with a compare-and-set (retried when another change won),
        record it, and tell every worker. `make` returns the changes, or None for none."""
        for _ in range(CHANGE_ATTEMPTS):
            held = await self.store.get(STAGE_KEY)
            if held is None:
                raise FleetError("the fleet has no stage yet (no worker has joined)")
            current = await self._trusted(held)
            if current is None:
                raise FleetError(f"{action}: the stage in the store is not this fleet's: {self.refused}")
            problem = await self._fetch(current)
            if problem is not None:
                raise FleetError(f"{action}: the stage in force cannot be read here: {problem}")
            changes = make(current)
            if changes is None:
                return None
            document = current.next(action, who, reason, self.gateway.clock(), **changes)
            if await self.store.swap(STAGE_KEY, held, document.signed(self.secret)):
                await self._audit(document)
                await self.store.publish(CHANNEL, str(document.generation).encode())
                async with self._lock:
                    await self._apply(document)
                return document
        raise FleetError(f"{action}: the stage kept changing under it; try again")

    async def _audit(self, document: StageDocument) -> None:
        record = {
            "generation": document.generation,
            "action": document.action,
            "active": document.name(document.active),
            "active_hash": document.active,
            "candidate": document.name(document.candidate),
            "candidate_hash": document.candidate,
            "mode": document.mode,
            "who": document.who,
            "reason": document.reason,
            "at": document.at,
        }
        await self.store.append(AUDIT_KEY, json.dumps(record).encode(), AUDIT_LIMIT)

    async def push(
        self,
        table: DecisionTable,
        text: str,
        mode: str,
        policy: CanaryPolicy | None,
        who: str,
        reason: str,
    ) -> StageDocument:
        """Store `text` (compiled as `table`) as a version and put it in force across the fleet."""
        digest = plan_hash(text)
        self._tables[digest] = table
        self._texts[digest] = text
        await self.store.put_new(PLAN_KEY + digest, text.encode())

        def make(current: StageDocument) -> dict[str, Any]:
            check_same_parties(self._tables[current.active], table)
            versions = {digest: table.version}
            if mode == DIRECT:
                history = (*current.history, current.active)
                return {
                    "active": digest,
                    "candidate": None,
                    "mode": "none",
                    "history": history,
                    "versions": versions,
                }
            fraction = policy.fraction if policy is not None and mode == CANARY else None
            unit = policy.unit if policy is not None and mode == CANARY else None
            return {
                "candidate": digest,
                "mode": mode,
                "fraction": fraction,
                "unit": unit,
                "versions": versions,
            }

        document = await self._change(f"push:{mode}", who, reason, make)
        assert document is not None
        return document

    async def promote(self, who: str, reason: str) -> StageDocument:
        def make(current: StageDocument) -> dict[str, Any]:
            if current.candidate is None:
                raise RolloutError("nothing to promote: no candidate in shadow or canary")
            history = (*current.history, current.active)
            return {"active": current.candidate, "candidate": None, "mode": "none", "history": history}

        document = await self._change("promote", who, reason, make)
        assert document is not None
        return document

    async def rollback(self, who: str, reason: str, to: str | None = None) -> StageDocument:
        """Drop the candidate; else go back to the version before (or to version `to`: its name or hash)."""

        def make(current: StageDocument) -> dict[str, Any]:
            if to is None and current.candidate is not None:
                return {"candidate": None, "mode": "none", "fraction": None, "unit": None}
            if not current.history:
                raise RolloutError("nothing to roll back to")
            index = len(current.history) - 1
            if to is not None:
                index = _history_index(current, to)
            return {
                "active": current.history[index],
                "candidate": None,
                "mode": "none",
                "fraction": None,
                "unit": None,
                "history": current.history[:index],
            }

        document = await self._change("rollback" if to is None else f"rollback:{to}", who, reason, make)
        assert document is not None
        return document

    def _canary_tripped(self, controller: CanaryController, reason: str) -> None:
        """Roll the candidate back fleet-wide, once: the compare-and-set lets one worker win."""
        applied = self.applied
        if applied is None or applied.candidate is None:
            return
        candidate = applied.candidate

        def make(current: StageDocument) -> dict[str, Any] | None:
            if current.candidate != candidate or current.mode != CANARY:
                return None  # another worker (or an operator) ended this canary already
            return {"candidate": None, "mode": "none", "fraction": None, "unit": None}

        async def roll_back() -> None:
            try:
                await self._change("rollback:canary", self.worker_id, reason, make)
            except (StoreUnavailable, FleetError) as error:
                # The store is away: end the canary here at least; the others trip on their own.
                OPERATIONS.error(f"gw467: canary rollback not shared ({error}); rolled back this worker")
                if self.gateway.rollout.stage.canary is controller:
                    self.gateway.rollout.rollback(reason=reason, at=self.gateway.clock())

        task = asyncio.get_running_loop().create_task(roll_back())
        self._trips.add(task)
        task.add_done_callback(self._trips.discard)

    async def deployment(self) -> dict[str, Any]:
        """This worker's deployment document with the fleet's: stage, live workers, convergence, audit."""
        document = self.gateway.deployment()
        try:
            held = await self.store.get(STAGE_KEY)
            beats = await self.store.scan(WORKER_PREFIX)
            audit = await self.store.tail(AUDIT_KEY, 20)
        except StoreUnavailable as error:
            document["fleet"] = {"available": False, "error": str(error), "worker": self.heartbeat()}
            return document
        if held is None:
            document["fleet"] = {"available": True, "stage": None, "workers": [], "converged": False}
            return document
        workers = sorted((json.loads(value) for value in beats.values()), key=lambda w: str(w["id"]))
        audit_records = [json.loads(entry) for entry in audit]
        try:
            stage = StageDocument.from_signed(held, self.secret)
        except (TrustError, ValueError, KeyError, TypeError) as error:
            # Not this fleet's stage: say so, and who still runs what (each its last good).
            document["fleet"] = {
                "available": True,
                "stage": None,
                "refused": str(error),
                "workers": workers,
                "converged": False,
                "worker": self.worker_id,
                "audit": audit_records,
            }
            return document
        document["history"] = [stage.name(digest) for digest in stage.history]
        document["fleet"] = {
            "available": True,
            "generation": stage.generation,
            "active": stage.name(stage.active),
            "active_hash": stage.active,
            "candidate": stage.name(stage.candidate),
            "candidate_hash": stage.candidate,
            "mode": stage.mode,
            "canary": {"fraction": stage.fraction, "unit": stage.unit} if stage.mode == CANARY else None,
            "history": [{"version": stage.name(d), "hash": d} for d in stage.history],
            "workers": workers,
            "converged": bool(workers) and all(w.get("generation") == stage.generation for w in workers),
            "worker": self.worker_id,
            "audit": audit_records,
        }
        return document
