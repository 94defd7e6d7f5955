"""`StageDocument`: what a deployment should run, by version, and the transitions between stages.

A version is named by a key (a plan file's SHA-256; see `version_key`). The document says which
version is active, which is the candidate and in which mode (shadow or canary, with the canary's
policy), and the history a rollback goes back through. Push, promote, roll back and the end of a
canary are written here once, as pure functions from one document to the next; a local
deployment keeps its document in memory, a fleet in its store, and both build the stage in force
from it the same way (`gateway.control_plane.deployment.stage_for`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from gateway.core.decision import DecisionTable
from gateway.request_path.canary import CanaryPolicy
from gateway.request_path.stage import CANARY, DIRECT, MODES, NO_CANDIDATE

HISTORY_LIMIT = 20
# A rollback to a hash prefix: shorter ones fit several versions too easily (`to=3`).
MIN_HASH_PREFIX = 8


class RolloutError(Exception):
    """A change that makes no sense in the current stage (promote with no candidate, ...)."""


def version_key(table: DecisionTable) -> str:
    """The key a table's version goes by: its plan file's SHA-256, or for a table built in code
    (no text) one of its own, since two such tables cannot be told apart by content."""
    return table.digest or f"code-{id(table):x}"


@dataclass(frozen=True)
class StageDocument:
    """A deployment's stage by version: active, candidate and mode, history; who changed it and why."""

    generation: int
    active: str
    candidate: str | None = None
    mode: str = NO_CANDIDATE  # "none", "shadow" or "canary", as `Stage.mode`
    canary: dict[str, Any] | None = None  # the canary's policy (`CanaryPolicy`'s fields)
    history: tuple[str, ...] = ()
    versions: dict[str, str] = field(default_factory=dict)  # key -> the file's version name
    action: str = "bootstrap"
    who: str = ""
    reason: str = ""
    at: float = 0.0

    @classmethod
    def first(cls, table: DecisionTable, at: float = 0.0) -> StageDocument:
        key = version_key(table)
        return cls(1, key, versions={key: table.version}, at=at)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> StageDocument:
        fields = json.loads(data)
        fields["history"] = tuple(fields.get("history", ()))
        # Written by an earlier release, which kept only these two fields of the policy.
        fraction, unit = fields.pop("fraction", None), fields.pop("unit", None)
        if fields.get("mode") == CANARY and "canary" not in fields:
            fields["canary"] = {"fraction": fraction or 0.1, "unit": unit or "request"}
        return cls(**fields)

    def name(self, key: str | None) -> str | None:
        return None if key is None else self.versions.get(key, key[:12])

    def history_names(self) -> list[str]:
        """The history's versions by name, the latest last (what the deployment document shows)."""
        return [self.versions.get(key, key[:12]) for key in self.history]

    @property
    def canary_policy(self) -> CanaryPolicy | None:
        if self.mode != CANARY or self.candidate is None or self.canary is None:
            return None
        return CanaryPolicy(**self.canary)

    # The transitions. Each returns the next document; RolloutError when it makes no sense.

    def pushed(
        self,
        table: DecisionTable,
        active: DecisionTable,
        mode: str,
        policy: CanaryPolicy | None,
        who: str,
        reason: str,
        at: float,
    ) -> StageDocument:
        """`table` put in force (direct, the active one going to the history) or beside the active
        table (`active`, the one this document names) as a shadow or canary candidate."""
        if mode not in MODES:
            raise RolloutError(f"unknown mode {mode!r}; use {', '.join(MODES)}")
        check_same_parties(active, table)
        key = version_key(table)
        versions = {key: table.version}
        if mode == DIRECT:
            return self._next(
                f"push:{mode}",
                who,
                reason,
                at,
                active=key,
                history=(*self.history, self.active),
                versions=versions,
            )
        canary = asdict(policy or CanaryPolicy()) if mode == CANARY else None
        return self._next(
            f"push:{mode}", who, reason, at, candidate=key, mode=mode, canary=canary, versions=versions
        )

    def promoted(self, who: str, reason: str, at: float) -> StageDocument:
        """The candidate made active; the active one goes to the history."""
        if self.candidate is None:
            raise RolloutError("nothing to promote: no candidate in shadow or canary")
        history = (*self.history, self.active)
        return self._next("promote", who, reason, at, active=self.candidate, history=history)

    def rolled_back(self, who: str, reason: str, at: float, to: str | None = None) -> StageDocument:
        """The candidate dropped, if there is one; else the version before the active one back in
        force (or version `to`, by name or hash prefix, with what came after it in the history)."""
        if to is None and self.candidate is not None:
            return self._next("rollback:candidate", who, reason, at)
        if not self.history:
            raise RolloutError("nothing to roll back to")
        index = len(self.history) - 1 if to is None else self._history_index(to)
        action = "rollback" if to is None else f"rollback:{to}"
        return self._next(action, who, reason, at, active=self.history[index], history=self.history[:index])

    def canary_ended(self, candidate: str, who: str, reason: str, at: float) -> StageDocument | None:
        """The canary of `candidate` rolled back; None when it has ended already (another worker,
        or an operator, ended it first)."""
        if self.candidate != candidate or self.mode != CANARY:
            return None
        return self._next("rollback:canary", who, reason, at)

    def _next(self, action: str, who: str, reason: str, at: float, **changes: Any) -> StageDocument:
        """The next generation: `changes` applied (a change that does not name the candidate drops
        it), the history cut to HISTORY_LIMIT, and only the names of versions still referred to."""
        changes.setdefault("candidate", None)
        if changes["candidate"] is None:
            changes.update(mode=NO_CANDIDATE, canary=None)
        history = tuple(changes.pop("history", self.history)[-HISTORY_LIMIT:])
        versions = {**self.versions, **changes.pop("versions", {})}
        kept = {*history, changes.get("active", self.active), changes["candidate"]}
        return replace(
            self,
            generation=self.generation + 1,
            history=history,
            versions={key: name for key, name in versions.items() if key in kept},
            action=action,
            who=who,
            reason=reason,
            at=at,
            **changes,
        )

    def _history_index(self, to: str) -> int:
        """Where version `to` (its name, or an unambiguous prefix of its hash of at least
        MIN_HASH_PREFIX characters) last stands in the history; RolloutError when nowhere, or when
        the prefix is too short or fits several versions: a rollback never picks one by chance."""
        history = self.history
        found = [i for i, key in enumerate(history) if self.versions.get(key) == to]
        if not found:
            if len(to) < MIN_HASH_PREFIX:
                raise RolloutError(
                    f"version {to!r}: give its name, or at least {MIN_HASH_PREFIX} characters of its hash"
                )
            found = [i for i, key in enumerate(history) if key.startswith(to)]
            if len({history[i] for i in found}) > 1:
                raise RolloutError(f"hash prefix {to!r} fits several versions; give more of it")
        if not found:
            raise RolloutError(f"version {to!r} is not in the history")
        return found[-1]


def check_same_parties(active: DecisionTable, table: DecisionTable) -> None:
    """Refuse a table that moves a client class between first- and third-party: the status
    page, the alert and the metrics count by class, and would silently mix the two."""
    parties = active.plan_set.class_parties
    for client in table.clients:
        was = parties.get(client.client_class)
        if was is not None and was != client.first_party:
            raise RolloutError(
                f"{table.version} makes class {client.client_class!r} "
                f"{'first' if client.first_party else 'third'}-party; in {active.version} it is "
                f"{'first' if was else 'third'}-party"
            )
