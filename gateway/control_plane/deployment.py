"""`Deployment`: where a push goes. One set of operations (push, promote, roll back, the canary's
automatic rollback, the deployment document) with two implementations: `LocalDeployment`
(`gateway.control_plane.local_deployment`), this process's own stage, and `FleetDeployment`
(`gateway.control_plane.fleet`), a stage shared through a store by every worker of a fleet.

The transitions themselves are `StageDocument`'s (`gateway.control_plane.stage_document`); an
implementation only says where the document lives and how a change to it is committed. The
admin API, SIGHUP reload, the CLI and the replay take a `Deployment` and never ask which kind.
`stage_for` is the one place a document becomes the stage a request is decided by.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from gateway.control_plane.stage_document import StageDocument
from gateway.core.decision import DecisionTable
from gateway.request_path.canary import CanaryController, CanaryPolicy
from gateway.request_path.runtime import Gateway
from gateway.request_path.shadow import ShadowRecorder
from gateway.request_path.slo import AvailabilityTracker
from gateway.request_path.stage import CANARY, DIRECT, SHADOW, Stage


class DeploymentUnavailable(Exception):
    """A change that cannot be made now (a fleet's store is down, or changes keep racing); the
    stage in force is unchanged. `str()` is the one line to answer."""


# A change to a document: the next document, or None for no change.
Change = Callable[[StageDocument], StageDocument | None]


def stage_for(document: StageDocument, tables: Mapping[str, DecisionTable]) -> Stage:
    """The stage `document` names, its tables taken from `tables`. A candidate gets a new shadow
    recorder or canary controller: every transition either drops the candidate or pushes one, and
    a pushed candidate (even the same file again) starts a new trial."""
    active = tables[document.active]
    candidate = tables[document.candidate] if document.candidate is not None else None
    if candidate is None:
        return Stage(active)
    if document.mode == SHADOW:
        return Stage(active, candidate, shadow=ShadowRecorder(candidate.version))
    policy = document.canary_policy
    if document.mode == CANARY and policy is not None:
        return Stage(active, candidate, canary=CanaryController(policy))
    return Stage(active)


class Deployment(ABC):
    """The operations on one gateway runtime's stage. Subclasses say where the stage document
    lives (`_commit`) and which counts judge the status page (`availability`)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        gateway.on_canary_trip = self.canary_tripped

    async def push(
        self,
        table: DecisionTable,
        mode: str = DIRECT,
        policy: CanaryPolicy | None = None,
        who: str = "",
        reason: str = "",
    ) -> None:
        """Put `table` (compiled from a file that validated) in force, or beside the active table
        as a shadow or canary candidate."""
        await self._commit(self._pushing(table, mode, policy, who, reason), table)

    async def promote(self, who: str = "", reason: str = "") -> None:
        """Make the candidate the active table."""
        await self._commit(self._promoting(who, reason))

    async def rollback(self, who: str = "", reason: str = "", to: str | None = None) -> None:
        """Drop the candidate; else go back to the version before (or to version `to`)."""
        await self._commit(self._rolling_back(who, reason, to))

    def _pushing(
        self, table: DecisionTable, mode: str, policy: CanaryPolicy | None, who: str, reason: str
    ) -> Change:
        def change(current: StageDocument) -> StageDocument:
            active = self.table_of(current.active)
            return current.pushed(table, active, mode, policy, who, reason, self.gateway.clock())

        return change

    # The changes, stamped with the runtime's clock when they are applied (a fleet's change may
    # be applied again when another change won the compare-and-set).

    def _promoting(self, who: str, reason: str) -> Change:
        return lambda current: current.promoted(who, reason, self.gateway.clock())

    def _rolling_back(self, who: str, reason: str, to: str | None) -> Change:
        return lambda current: current.rolled_back(who, reason, self.gateway.clock(), to)

    @abstractmethod
    def table_of(self, key: str) -> DecisionTable:
        """The compiled table of a version this deployment holds."""

    @abstractmethod
    async def _commit(self, change: Change, table: DecisionTable | None = None) -> None:
        """Apply `change` to the deployment's document (with `table`, a version it introduces) and
        put the resulting stage in force."""

    @abstractmethod
    def canary_tripped(self, controller: CanaryController, reason: str) -> None:
        """The canary in force crossed its threshold: roll its candidate back (called by the
        runtime, on the event loop or in the replay's virtual time)."""

    @abstractmethod
    async def document(self) -> dict[str, Any]:
        """The admin deployment document: the stage, its history and changes, the store."""

    async def availability(self) -> AvailabilityTracker | None:
        """The counts the status page and the alert judge by; None for this runtime's own."""
        return None

    @abstractmethod
    async def start(self) -> None:
        """Begin: called once, before the first request (a fleet joins its store here)."""

    @abstractmethod
    async def stop(self) -> None:
        """End: called at shutdown (a fleet leaves its store here)."""
