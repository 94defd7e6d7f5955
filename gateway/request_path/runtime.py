"""`Gateway`: the serving runtime, the one stateful object behind every front.

It owns the stage in force (`in_force`), the quota ledger, the availability
tracker, the burn-rate alert and the metrics. `decide` arbitrates the active
table with a shadow or canary candidate, `admit` counts quotas (in the process, or in a
shared state store under a declared failure policy: `gateway.stores.state_store`), `observe` feeds
each outcome to the SLIs, the canary controller and the metrics (rolling a
failing canary back), and `status` / `deployment` are the documents the control
API serves. The ASGI middleware, the control API and the replay all talk to
this object; none of them keeps gateway state of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import Decision, DecisionTable, decide
from gateway.core.planfile import load_plan_set
from gateway.core.plans import PlanSet
from gateway.core.quota import QuotaLedger, quota_headers, window_of
from gateway.core.rules import (
    STATUS_QUOTA,
    STATUS_STORE_UNAVAILABLE,
    Rule,
    StatusKind,
    quota_spent,
    status_kind,
    store_unavailable,
)
from gateway.request_path.canary import CanaryController
from gateway.request_path.decision_log import (
    DECISIONS,
    OPERATIONS,
    decided_path,
    decision_record,
    log_decision,
)
from gateway.request_path.metrics import GatewayMetrics
from gateway.request_path.slo import (
    AlertState,
    AvailabilityTracker,
    BurnRateAlert,
    is_bad,
    parse_sli,
    status_document,
)
from gateway.request_path.stage import StageInForce
from gateway.stores.state_store import MemoryStore, StateStore, StoreHealth, StoreUnavailable

UNKNOWN = "unknown"
# What a gateway does with a request whose quota a shared store cannot count (see `Gateway`).
LOCAL, OPEN, CLOSED = "local", "open", "closed"
STORE_FAILURE_POLICIES = (LOCAL, OPEN, CLOSED)
QUOTA_KEY = "gw467:quota:{client}:{seconds}:{window}"
# What the public status says of the store: up or not, and the policy that holds meanwhile.
PUBLIC_STORE_FIELDS = ("shared", "available", "failure_policy", "unavailable_since")
Headers = list[tuple[bytes, bytes]]


def as_table(plans: str | Path | PlanSet | DecisionTable) -> DecisionTable:
    """A DecisionTable from a plan-file path, a PlanSet, or a table (returned as is)."""
    if isinstance(plans, DecisionTable):
        return plans
    if isinstance(plans, PlanSet):
        return compile_plan_set(plans)
    return compile_plan_set(load_plan_set(plans))


# The decision that applies to a request, and the canary that made it, if one did. A plain
# tuple rather than a NamedTuple: one is built per request, and a NamedTuple costs 4x more.
Ruling = tuple[Decision, CanaryController | None]


class Admission(NamedTuple):
    """The quota's answer for a forwarded decision: admitted or not, its headers, the rule in force,
    and the status to refuse with (429; 503 when a store outage closes the gateway)."""

    admitted: bool
    headers: Headers
    rule: Rule
    status: int = STATUS_QUOTA


class Gateway:
    """The gateway's state and its operations. See the module docstring.

    `plans` is a plan-file path, a PlanSet or a compiled DecisionTable; a bad
    file raises `gateway.core.config.ConfigError` here. The settings arrive checked, with
    their defaults, from `gateway.fronts.settings.GatewaySettings` (`settings.runtime(plans)`
    builds one). `sli` chooses what counts as a failed request for the status page, the
    burn-rate alert and the canary: "first-party-denials" or "5xx". `min_requests` is the
    evidence the status page and the alert need before a class can be degraded or an alert
    page. `metrics` turns on Prometheus metrics (True, or a GatewayMetrics to share).

    `store` holds the quota counters (and, in `gateway.control_plane.fleet`, the fleet's
    stage); the default `MemoryStore` keeps them in this process, in the `QuotaLedger`.
    With a shared store (Redis), quotas are exact across workers and instances, and
    `store_failure` says what a request with a quota gets while the store cannot count
    it: "local" counts it in this worker's own ledger, so an entitled
    caller is still served and a runaway one still limited, per worker; "open" admits it
    uncounted; "closed" refuses it with 503. Never 467 or 429 because of the outage:
    the rule of such a request is `store:unavailable (<policy>)`, and the metrics and the
    status page say the store is down and which policy holds.
    """

    def __init__(
        self,
        plans: str | Path | PlanSet | DecisionTable,
        clock: Callable[[], float] = time.time,
        *,
        sli: str,
        slo: float,
        min_requests: int,
        metrics: bool | GatewayMetrics,
        store: StateStore | None = None,
        store_failure: str,
    ) -> None:
        self.clock = clock
        self.in_force = StageInForce.of(as_table(plans))
        self.quotas = QuotaLedger(clock)
        self.sli = parse_sli(sli)
        self.availability = AvailabilityTracker()
        self.alert = BurnRateAlert(slo=slo, min_requests=min_requests)
        self.metrics = GatewayMetrics() if metrics is True else (metrics or None)
        self.store: StateStore = MemoryStore() if store is None else store
        self.store_failure = store_failure
        self.store_health = StoreHealth()
        # Called with the reason when the canary in force trips: its deployment rolls it back
        # (`gateway.control_plane.deployment`; a fleet's, fleet-wide). Without one, nothing does.
        self.on_canary_trip: Callable[[CanaryController, str], None] | None = None
        # Called with every outcome the SLIs count (class, first-party, bad, 5xx, time, in the
        # canary slice): a fleet adds them to its shared counters.
        self.on_record: Callable[[str, bool, bool, bool, float, bool], None] | None = None

    @property
    def table(self) -> DecisionTable:
        """The active table."""
        return self.in_force.stage.active

    # One request: decide, admit, observe.

    def decide(
        self, method: str, raw_path: str, authorization: list[bytes], preflight: str | None = None
    ) -> Ruling:
        """Decide with the active table; beside a candidate, count a shadow divergence or let a
        canary slice enforce the candidate's decision. `preflight`: see `core.decision.decide`."""
        stage = self.in_force.stage
        decision = decide(stage.active, method, raw_path, authorization, preflight=preflight)
        if stage.candidate is None:
            return decision, None
        candidate = decide(stage.candidate, method, raw_path, authorization, preflight=preflight)
        if stage.shadow is not None:
            divergence = stage.shadow.observe(method, raw_path, decision, candidate)
            if divergence is not None and self.metrics is not None:
                self.metrics.shadow_divergence(
                    divergence.client_class, divergence.endpoint_id, divergence.direction
                )
            return decision, None
        canary = stage.canary
        if canary is not None:
            client = decision.client or candidate.client
            endpoint = decision.endpoint or candidate.endpoint
            if client is not None and endpoint is not None and canary.in_slice(client.client_class):
                return candidate, canary
        return decision, None

    async def admit(self, decision: Decision) -> Admission:
        """Count a forwarded decision against its plan's quota, if it has one: in this process,
        or with one round trip to a shared store (under the failure policy when it is down)."""
        verdict = decision.verdict
        assert verdict is not None
        quota = verdict.quota
        if quota is None:
            return Admission(True, [], decision.rule)
        client = decision.client
        assert client is not None  # only a client's plan carries a quota
        store = self.store
        if store.shared and self.store_health.may_try(time.monotonic()):
            now = self.clock()
            window = window_of(quota, now)
            key = QUOTA_KEY.format(client=client.id, seconds=quota.window_seconds, window=window)
            try:
                used = await store.count(key, quota.window_seconds + 60)
            except StoreUnavailable as error:
                self._store_failed("quota", error)
            else:
                self.store_call_succeeded()
                admitted = used <= quota.requests
                headers = quota_headers(quota, window, used, now)
                return Admission(admitted, headers, decision.rule if admitted else quota_spent(verdict.plan))
        if not store.shared:
            admitted, headers = self.quotas.admit(client.id, quota)
            return Admission(admitted, headers, decision.rule if admitted else quota_spent(verdict.plan))
        return self._without_store(client.id, verdict.plan, quota)

    def _without_store(self, client_id: str, plan: str | None, quota: Any) -> Admission:
        """The failure policy's answer for a request the shared store could not count."""
        policy = self.store_failure
        rule = store_unavailable(policy)
        if self.metrics is not None:
            self.metrics.store_failure("quota", policy)
        if policy == CLOSED:
            return Admission(False, [], rule, STATUS_STORE_UNAVAILABLE)
        if policy == OPEN:
            return Admission(True, [], rule)
        # Local: this worker's own ledger. It refuses only a client past its quota on this
        # worker alone, who is past it fleet-wide too: that 429 is the quota's, not the outage's.
        admitted, headers = self.quotas.admit(client_id, quota)
        return Admission(admitted, headers, rule if admitted else quota_spent(plan))

    def _store_failed(self, operation: str, error: StoreUnavailable) -> None:
        """Record a failed store call: the store's health, and one log line when it goes down.
        (The metrics count the requests the failure policy answered, in `_without_store`,
        and the fleet's own failed calls, in `store_call_failed`.)"""
        if self.store_health.failed(time.monotonic(), str(error), self.clock()):
            OPERATIONS.error(
                f"gw467: store {self.store.description} unavailable ({error}); "
                f"policy {self.store_failure} holds"
            )

    def store_call_failed(self, operation: str, error: StoreUnavailable) -> None:
        """A store call other than a quota check failed (the fleet's sync, heartbeat, flush)."""
        self._store_failed(operation, error)
        if self.metrics is not None:
            self.metrics.store_failure(operation, self.store_failure)

    def store_call_succeeded(self) -> None:
        if self.store_health.succeeded():
            OPERATIONS.info(f"gw467: store {self.store.description} is back; quotas are shared again")

    def observe(
        self,
        decision: Decision,
        status: int,
        rule: Rule,
        gateway_made: bool,
        seconds: float,
        canary: CanaryController | None,
        method: str | None = None,
        raw_path: str | None = None,
    ) -> None:
        """Feed one outcome to the availability tracker, the canary controller, the metrics and
        the decision log (`gateway.request_path.decision_log`, when its logger is on). `method` and
        `raw_path` (no query string) are the request's, for the log."""
        client = decision.client
        metrics = self.metrics
        endpoint = decision.endpoint
        if DECISIONS.isEnabledFor(logging.INFO):
            stage = self.in_force.stage
            # A canary's request was decided by the candidate; any other by the table in force.
            table = stage.candidate if canary is not None and stage.candidate is not None else stage.active
            path = decision.path
            if raw_path is not None and method is not None:
                path = decided_path(table, method, raw_path, path)
            log_decision(
                decision_record(
                    self.clock(),
                    client.id if client is not None else None,
                    client.client_class if client is not None else None,
                    endpoint.id if endpoint is not None else None,
                    rule.text,
                    status,
                    seconds,
                    method,
                    path,
                    table.digest,
                )
            )
        if metrics is not None:
            metrics.observe_request(
                client.client_class if client is not None else UNKNOWN,
                endpoint.surface if endpoint is not None else UNKNOWN,
                status,
                rule.text,
                seconds,
            )
        if client is None:
            return
        identity = client.identity
        first_party = identity.first_party
        now = self.clock()
        kind = status_kind(status)
        bad = is_bad(self.sli, first_party, kind, gateway_made)
        server_error = kind is StatusKind.SERVER_ERROR  # what a 5xx-only page counts
        self.availability.record(identity.client_class, first_party, bad, now, server_error)
        if self.on_record is not None:
            self.on_record(identity.client_class, first_party, bad, server_error, now, canary is not None)
        if canary is None:
            return
        stage_canary = self.in_force.stage.canary
        if stage_canary is not canary:
            return  # the canary this request belonged to has already ended
        if metrics is not None:
            metrics.canary_request(client.client_class, bad)
        reason = stage_canary.observe(now, client.client_class, client.first_party, bad)
        if reason is not None:
            if metrics is not None:
                metrics.canary_rollback("first-party error rate")
            if self.on_canary_trip is not None:
                self.on_canary_trip(stage_canary, f"canary: {reason}")

    # The documents the control API serves.

    # `availability`: the counts to judge by; this worker's own by default, a fleet's when given.

    def alert_state(self, availability: AvailabilityTracker | None = None) -> AlertState:
        return self.alert.evaluate(availability or self.availability, self.clock())

    def status(self, availability: AvailabilityTracker | None = None) -> dict[str, Any]:
        now = self.clock()
        tracker = availability or self.availability
        alert = self.alert.evaluate(tracker, now)
        document = status_document(
            tracker, alert, now, self.sli, self.alert.slo, self.alert.min_requests, self.last_rollback()
        )
        document["counts"] = "worker" if availability is None else "fleet"
        # Public: which versions are in force, and whether a shared store is up. The shadow
        # sample (other clients' paths), change reasons, the store's address and its errors are
        # in the admin deployment document (`deployment()`) only.
        stage = self.in_force.stage
        document["deployment"] = {
            "active": stage.active.version,
            "candidate": stage.candidate.version if stage.candidate is not None else None,
            "mode": stage.mode,
        }
        store = self.store_document()
        document["store"] = {key: store[key] for key in PUBLIC_STORE_FIELDS}
        return document

    def last_rollback(self) -> tuple[float, str] | None:
        """(when, why) of the latest change to the stage, when it was a rollback: what lets the
        status page call a class "recovering" while its window still holds the failures."""
        changes = self.in_force.changes
        if changes and "rollback" in changes[-1].action:
            return changes[-1].at, changes[-1].reason
        return None

    def store_document(self) -> dict[str, Any]:
        """The store's part of the status document: which store, up or not, the policy that holds."""
        health = self.store_health
        return {
            "backend": self.store.description,
            "shared": self.store.shared,
            "available": health.available,
            "failure_policy": self.store_failure,
            "unavailable_since": health.down_since,
            "last_error": health.last_error,
            "failures": health.failures,
        }

    def deployment(self, history: list[str]) -> dict[str, Any]:
        """The stage in force, as the admin deployment document shows it, with the deployment's
        `history` (the versions a rollback goes back through, the latest last)."""
        in_force = self.in_force
        stage = in_force.stage
        return {
            "active": stage.active.version,
            "candidate": stage.candidate.version if stage.candidate is not None else None,
            "mode": stage.mode,
            "shadow": stage.shadow.summary() if stage.shadow is not None else None,
            "canary": stage.canary.summary() if stage.canary is not None else None,
            "history": history,
            "events": [change.__dict__ for change in in_force.changes[-20:]],
            "store": self.store_document(),
        }

    def metrics_exposition(self, availability: AvailabilityTracker | None = None) -> tuple[bytes, str] | None:
        """The Prometheus text, with the deployment and alert gauges brought up to date; None when off."""
        metrics = self.metrics
        if metrics is None:
            return None
        stage = self.in_force.stage
        candidate = stage.candidate.version if stage.candidate is not None else ""
        metrics.set_deployment(stage.active.version, candidate, stage.mode)
        alert = self.alert_state(availability)
        for alert_rule in self.alert.rules:
            metrics.set_alert(alert_rule.name, alert.firing and alert.fired_by == alert_rule.name)
        return metrics.exposition()
