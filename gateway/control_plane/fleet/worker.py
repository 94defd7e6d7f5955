"""`FleetWorker`: one worker's data plane in a fleet. It brings its stage to the store's stage
document, keeps its last good version on disk, and heartbeats.

Each worker reads the document, compiles the versions it names (off the event loop), and swaps
its stage atomically; one that cannot (a version it cannot compile, or whose text does not match
its hash) keeps its last good table and reports the refusal in its heartbeat. A document that is
not signed with the fleet secret is refused and audited once (`gateway.control_plane.fleet.trust`).
Each worker writes its last good stage and plan texts to `<state dir>/last-good.json` and starts
from it, so a worker restarted while the store is away comes back on its last good version, not
the file it was started with (Kong's data planes do the same). Heartbeats (id, pid, host,
versions, generation) carry a TTL; the deployment document lists the live ones.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import time
from pathlib import Path
from typing import Any

from gateway.control_plane.deployment import DeploymentUnavailable, stage_for
from gateway.control_plane.fleet.keys import (
    AUDIT_KEY,
    AUDIT_LIMIT,
    CHANNEL,
    PLAN_KEY,
    STAGE_KEY,
    WORKER_PREFIX,
)
from gateway.control_plane.fleet.trust import signed_document, trusted_document
from gateway.control_plane.off_loop import built_off_the_loop
from gateway.control_plane.stage_document import RolloutError, StageDocument, version_key
from gateway.core.compiler import compile_plan_set
from gateway.core.config import ConfigError
from gateway.core.decision import DecisionTable
from gateway.core.planfile import parse_plan_set
from gateway.core.plans import plan_hash
from gateway.request_path.decision_log import OPERATIONS
from gateway.request_path.runtime import Gateway
from gateway.stores.private_files import TrustError, read_private, write_private
from gateway.stores.state_store import StateStore, StoreUnavailable

HEARTBEAT_SECONDS = 0.5
WORKER_TTL_SECONDS = 3.0
LAST_GOOD_FILE = "last-good.json"


class FleetError(DeploymentUnavailable):
    """A fleet operation that cannot be done now (no stage yet, an untrusted one, racing changes)."""

    def __str__(self) -> str:
        return f"fleet: {super().__str__()}"


def compile_version(digest: str, text: str) -> DecisionTable:
    """The table of a stored version, once its text is shown to be the one its hash names."""
    if plan_hash(text) != digest:
        raise ConfigError(f"<fleet version {digest[:12]}>", "", "the text does not match its hash")
    return compile_plan_set(parse_plan_set(text, f"<fleet version {digest[:12]}>"))


def default_state_dir() -> Path:
    """Where a worker keeps its last good version: $XDG_STATE_HOME/gw467, else ~/.local/state/gw467."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "gw467"


class FleetWorker:
    """Keeps one runtime's stage on the fleet's stage document. `secret` is the fleet secret;
    `state_dir` a private directory (see `gateway.stores.private_files`)."""

    def __init__(self, gateway: Gateway, state_dir: Path, secret: bytes) -> None:
        self.gateway = gateway
        self.store: StateStore = gateway.store
        self.secret = secret
        self.state_dir = state_dir
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.started_at = time.time()
        self.applied: StageDocument | None = None
        self.refused: dict[str, str] | None = None
        self._tables: dict[str, DecisionTable] = {}
        self._texts: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._untrusted: bytes | None = None  # the last stage refused for its signature
        self._start_from_last_good()

    def table_of(self, digest: str) -> DecisionTable:
        return self._tables[digest]

    def remember(self, digest: str, text: str, table: DecisionTable) -> DecisionTable:
        """Hold `table`, compiled from `text`, as the version `digest`."""
        self._tables[digest] = table
        self._texts[digest] = text
        return table

    def _start_from_last_good(self) -> None:
        """Run the last good stage this machine wrote, if there is one."""
        path = self.state_dir / LAST_GOOD_FILE
        if not path.exists():
            return
        try:
            saved = json.loads(read_private(path))
            # Signed as the store's stage is: a file planted here is not started from.
            document = trusted_document(saved["stage"].encode(), self.secret)
            for digest, text in saved["plans"].items():
                if digest not in self._tables:
                    self.remember(digest, text, compile_version(digest, text))
            self._install(document)
        except TrustError as error:
            OPERATIONS.error(f"gw467: {path}: not used: {error}")
            return
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ConfigError, RolloutError) as error:
            OPERATIONS.error(f"gw467: {path}: not used ({type(error).__name__}: {error})")
            return
        OPERATIONS.info(f"gw467: started from {path}: version {self.gateway.table.version}")

    def _install(self, document: StageDocument) -> None:
        """Swap this worker's stage for the one `document` names (its tables are compiled)."""
        in_force = self.gateway.in_force
        stage = stage_for(document, self._tables)
        in_force.install(stage, f"fleet:{document.action}", document.reason, self.gateway.clock())
        self.applied = document

    async def sync(self) -> None:
        """Bring this worker to the fleet's stage document (bootstrapping the fleet if it has none)."""
        async with self._lock:
            held = await self.store.get(STAGE_KEY)
            if held is None:
                await self._bootstrap()
                return
            document = await self.trusted(held)
            if document is None:
                return
            if self.applied is not None and document.generation == self.applied.generation:
                return
            await self._apply(document)

    async def apply(self, document: StageDocument) -> None:
        """Run `document`, which this worker has just committed to the store."""
        async with self._lock:
            await self._apply(document)

    async def trusted(self, held: bytes) -> StageDocument | None:
        """The stage document in `held`, or None when its signature does not verify: then this
        worker keeps its table, reports the refusal in its heartbeat and, once per such stage,
        writes an audit record (a change that did not come through the admin API)."""
        try:
            return trusted_document(held, self.secret)
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
        digest = version_key(table)
        self.remember(digest, text, table)
        await self.store.put_new(PLAN_KEY + digest, text.encode())
        document = StageDocument.first(table, at=self.gateway.clock())
        if await self.store.swap(STAGE_KEY, None, signed_document(document, self.secret)):
            await audit(self.store, document)
        held = await self.store.get(STAGE_KEY)
        if held is not None and (trusted := await self.trusted(held)) is not None:
            await self._apply(trusted)

    async def fetch(self, document: StageDocument) -> str | None:
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
                self.remember(digest, decoded, table)
            except (ConfigError, UnicodeDecodeError) as error:
                return str(error)
        return None

    async def _apply(self, document: StageDocument) -> None:
        problem = await self.fetch(document)
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
        stage = signed_document(document, self.secret).decode()
        saved = {"stage": stage, "plans": {d: self._texts[d] for d in digests}}
        try:
            write_private(self.state_dir / LAST_GOOD_FILE, json.dumps(saved).encode())
        except OSError as error:
            OPERATIONS.error(f"gw467: cannot write the last good version under {self.state_dir}: {error}")

    def heartbeat(self) -> dict[str, Any]:
        stage = self.gateway.in_force.stage
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

    async def tick(self) -> None:
        """Sync and heartbeat once; a store outage is recorded, not raised."""
        try:
            await self.sync()
            await self._beat()
        except StoreUnavailable as error:
            self.gateway.store_call_failed("sync", error)
        else:
            self.gateway.store_call_succeeded()

    async def listen(self) -> None:
        """Sync whenever a change is published (reconnecting while the store is away)."""
        while True:
            try:
                async for _ in self.store.subscribe(CHANNEL):
                    await self.tick()
            except StoreUnavailable:
                await asyncio.sleep(HEARTBEAT_SECONDS)

    async def heartbeats(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def leave(self) -> None:
        """Leave the deployment document now rather than when the heartbeat expires."""
        await self.store.beat(WORKER_PREFIX + self.worker_id, b"{}", 0.001)


async def audit(store: StateStore, document: StageDocument) -> None:
    """Append the change `document` records to the fleet's audit."""
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
    await store.append(AUDIT_KEY, json.dumps(record).encode(), AUDIT_LIMIT)
