"""`FleetDeployment`: the `Deployment` of gateways that share a store (Redis).

Any worker's admin API changes the whole fleet: a pushed file (validated and compiled already) is
stored as an immutable version keyed by its SHA-256, the stage document changes with a
compare-and-set on the store (retried when another change won), the change is audited (who,
when, why) and published, and every worker brings itself to it (`FleetWorker`). A canary that
trips on the fleet-wide counts (`FleetCounters`) is rolled back once, for the whole fleet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from gateway.control_plane.deployment import Change, Deployment
from gateway.control_plane.fleet.counters import FleetCounters
from gateway.control_plane.fleet.keys import AUDIT_KEY, CHANNEL, PLAN_KEY, STAGE_KEY, WORKER_PREFIX
from gateway.control_plane.fleet.trust import fleet_secret, signed_document, trusted_document
from gateway.control_plane.fleet.worker import FleetError, FleetWorker, audit, default_state_dir
from gateway.control_plane.stage_document import version_key
from gateway.core.decision import DecisionTable
from gateway.request_path.canary import CanaryController
from gateway.request_path.decision_log import OPERATIONS
from gateway.request_path.runtime import Gateway
from gateway.request_path.slo import AvailabilityTracker
from gateway.request_path.stage import CANARY, Stage
from gateway.stores.private_files import TrustError, private_directory
from gateway.stores.state_store import StoreUnavailable

CHANGE_ATTEMPTS = 50
CANCEL_RETRY_SECONDS = 0.5
AUDIT_SHOWN = 20


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


class FleetDeployment(Deployment):
    """This worker's part in the fleet, and the fleet's operations, all on `gateway.store`."""

    def __init__(self, gateway: Gateway, state_dir: Path | None = None, secret: bytes | None = None) -> None:
        """`secret`: the fleet secret (by default from the environment, see `fleet_secret`).
        Raises FleetError when there is none, or when the state directory cannot be trusted."""
        super().__init__(gateway)
        try:
            chosen_secret = secret if secret is not None else fleet_secret()
            directory = private_directory(state_dir or default_state_dir())
        except TrustError as error:
            raise FleetError(str(error)) from None
        self.store = gateway.store
        self.worker = FleetWorker(gateway, directory, chosen_secret)
        self.counters = FleetCounters(gateway, self._candidate, self.canary_tripped)
        self._tasks: list[asyncio.Task[None]] = []
        self._trips: set[asyncio.Task[None]] = set()

    def _candidate(self) -> str | None:
        applied = self.worker.applied
        return applied.candidate if applied is not None else None

    def table_of(self, key: str) -> DecisionTable:
        return self.worker.table_of(key)

    async def _commit(self, change: Change, table: DecisionTable | None = None) -> None:
        """Change the stage document with a compare-and-set (retried when another change won),
        audit it, tell every worker, and run it here."""
        try:
            await self._compare_and_set(change, table)
        except StoreUnavailable as error:
            raise FleetError(str(error)) from None

    async def _compare_and_set(self, change: Change, table: DecisionTable | None) -> None:
        worker = self.worker
        if table is not None:
            # A new version: stored (immutable, under its hash) before any document names it.
            text = table.plan_set.text
            digest = version_key(table)
            worker.remember(digest, text, table)
            await self.store.put_new(PLAN_KEY + digest, text.encode())
        for _ in range(CHANGE_ATTEMPTS):
            held = await self.store.get(STAGE_KEY)
            if held is None:
                raise FleetError("the fleet has no stage yet (no worker has joined)")
            current = await worker.trusted(held)
            if current is None:
                raise FleetError(f"the stage in the store is not this fleet's: {worker.refused}")
            problem = await worker.fetch(current)
            if problem is not None:
                raise FleetError(f"the stage in force cannot be read here: {problem}")
            document = change(current)
            if document is None:
                return
            if await self.store.swap(STAGE_KEY, held, signed_document(document, worker.secret)):
                await audit(self.store, document)
                await self.store.publish(CHANNEL, str(document.generation).encode())
                await worker.apply(document)
                return
        raise FleetError("the stage kept changing under the change; try again")

    def canary_tripped(self, controller: CanaryController, reason: str) -> None:
        """Roll the candidate back fleet-wide, once: the compare-and-set lets one worker win."""
        candidate = self._candidate()
        if candidate is None:
            return
        worker = self.worker

        async def roll_back() -> None:
            try:
                await self._commit(
                    lambda current: current.canary_ended(
                        candidate, worker.worker_id, reason, self.gateway.clock()
                    )
                )
            except FleetError as error:
                # The store is away: end the canary here at least; the others trip on their own.
                OPERATIONS.error(f"gw467: canary rollback not shared ({error}); rolled back this worker")
                in_force = self.gateway.in_force
                if in_force.stage.canary is controller:
                    in_force.install(
                        Stage(in_force.stage.active), "rollback:candidate", reason, self.gateway.clock()
                    )

        task = asyncio.get_running_loop().create_task(roll_back())
        self._trips.add(task)
        task.add_done_callback(self._trips.discard)

    async def availability(self) -> AvailabilityTracker | None:
        """The fleet's counts; None (this worker's own) while the store is down: the status
        document's "counts" then says "worker"."""
        try:
            return await self.counters.availability()
        except StoreUnavailable as error:
            self.gateway.store_call_failed("status", error)
            return None

    async def start(self) -> None:
        """Join the fleet (or run on the last good version while the store is away) and keep in step."""
        await self.worker.tick()
        self._tasks = [
            asyncio.create_task(self.worker.heartbeats()),
            asyncio.create_task(self.worker.listen()),
            asyncio.create_task(self.counters.flushes()),
        ]

    async def stop(self) -> None:
        with contextlib.suppress(StoreUnavailable):
            await self.counters.flush()  # the last second's counts
            await self.worker.leave()
        await cancel_and_wait([*self._tasks, *self._trips])
        self._tasks = []
        await self.store.close()

    async def document(self) -> dict[str, Any]:
        """This worker's deployment document with the fleet's: stage, live workers, convergence, audit."""
        worker = self.worker
        applied = worker.applied
        history = applied.history_names() if applied is not None else []
        document = self.gateway.deployment(history)
        try:
            held = await self.store.get(STAGE_KEY)
            beats = await self.store.scan(WORKER_PREFIX)
            audit_tail = await self.store.tail(AUDIT_KEY, AUDIT_SHOWN)
        except StoreUnavailable as error:
            document["fleet"] = {"available": False, "error": str(error), "worker": worker.heartbeat()}
            return document
        if held is None:
            document["fleet"] = {"available": True, "stage": None, "workers": [], "converged": False}
            return document
        workers = sorted((json.loads(value) for value in beats.values()), key=lambda w: str(w["id"]))
        audit_records = [json.loads(entry) for entry in audit_tail]
        try:
            stage = trusted_document(held, worker.secret)
        except (TrustError, ValueError, KeyError, TypeError) as error:
            # Not this fleet's stage: say so, and who still runs what (each its last good).
            document["fleet"] = {
                "available": True,
                "stage": None,
                "refused": str(error),
                "workers": workers,
                "converged": False,
                "worker": worker.worker_id,
                "audit": audit_records,
            }
            return document
        document["history"] = stage.history_names()
        document["fleet"] = {
            "available": True,
            "generation": stage.generation,
            "active": stage.name(stage.active),
            "active_hash": stage.active,
            "candidate": stage.name(stage.candidate),
            "candidate_hash": stage.candidate,
            "mode": stage.mode,
            "canary": _shown_policy(stage.canary) if stage.mode == CANARY else None,
            "history": [{"version": stage.name(d), "hash": d} for d in stage.history],
            "workers": workers,
            "converged": bool(workers) and all(w.get("generation") == stage.generation for w in workers),
            "worker": worker.worker_id,
            "audit": audit_records,
        }
        return document


def _shown_policy(policy: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the deployment document shows of a canary's policy: its slice."""
    return None if policy is None else {"fraction": policy.get("fraction"), "unit": policy.get("unit")}
