"""`LocalDeployment`: a deployment of one process. Its stage document lives in memory, and a change
is committed by putting the next stage in force at once, with no I/O: the replay drives it in
virtual time through the synchronous `push_now`, `promote_now` and `rollback_now`.
"""

from __future__ import annotations

from typing import Any

from gateway.control_plane.deployment import Change, Deployment, stage_for
from gateway.control_plane.stage_document import StageDocument, version_key
from gateway.core.decision import DecisionTable
from gateway.request_path.canary import CanaryController, CanaryPolicy
from gateway.request_path.runtime import Gateway
from gateway.request_path.stage import DIRECT


class LocalDeployment(Deployment):
    """This process's stage, changed in place."""

    def __init__(self, gateway: Gateway) -> None:
        super().__init__(gateway)
        table = gateway.table
        self.stage_document = StageDocument.first(table)
        self._tables = {version_key(table): table}

    def table_of(self, key: str) -> DecisionTable:
        return self._tables[key]

    async def _commit(self, change: Change, table: DecisionTable | None = None) -> None:
        self.commit_now(change, table)

    def commit_now(self, change: Change, table: DecisionTable | None = None) -> StageDocument | None:
        """Apply `change` and put the next stage in force; the next document (None: no change)."""
        document = change(self.stage_document)
        if document is None:
            return None
        tables = self._tables
        if table is not None:
            tables[version_key(table)] = table
        in_force = self.gateway.in_force
        stage = stage_for(document, tables)
        in_force.install(stage, document.action, document.reason, document.at)
        self.stage_document = document
        named = {document.active, document.candidate, *document.history}
        for key in [key for key in tables if key not in named]:
            del tables[key]
        return document

    # The replay's synchronous face: the same transitions, stamped with the runtime's clock.

    def push_now(
        self, table: DecisionTable, mode: str = DIRECT, policy: CanaryPolicy | None = None, reason: str = ""
    ) -> None:
        self.commit_now(self._pushing(table, mode, policy, "", reason), table)

    def promote_now(self, reason: str = "") -> None:
        self.commit_now(self._promoting("", reason))

    def rollback_now(self, reason: str = "", to: str | None = None) -> None:
        self.commit_now(self._rolling_back("", reason, to))

    def canary_tripped(self, controller: CanaryController, reason: str) -> None:
        # The canary in force is this process's only one: rolling back drops its candidate.
        if self.gateway.in_force.stage.canary is controller:
            self.rollback_now(reason)

    async def start(self) -> None:
        """Nothing to join: the stage is this process's."""

    async def stop(self) -> None:
        """Nothing to leave."""

    async def document(self) -> dict[str, Any]:
        return self.deployment_document()

    def deployment_document(self) -> dict[str, Any]:
        """The admin deployment document (synchronous: nothing to ask a store)."""
        return self.gateway.deployment(self.stage_document.history_names())
