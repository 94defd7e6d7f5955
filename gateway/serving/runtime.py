"""`Gateway`: the serving runtime, the one stateful object behind every front.

It owns the stage in force (`rollout`), the quota ledger, the availability
tracker, the burn-rate alert and the metrics. `decide` arbitrates the active
table with a shadow or canary candidate, `admit` counts quotas, `observe` feeds
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
from gateway.core.rules import Rule, StatusKind, quota_spent, status_kind
from gateway.serving.canary import CanaryController, CanaryPolicy
from gateway.serving.decision_log import DECISIONS, decision_record, log_decision
from gateway.serving.metrics import GatewayMetrics
from gateway.serving.quota import QuotaLedger
from gateway.serving.rollout import DIRECT, Rollout
from gateway.serving.slo import (
    DEFAULT_MIN_REQUESTS,
    AlertState,
    AvailabilityTracker,
    BurnRateAlert,
    is_bad,
    parse_sli,
    status_document,
)

UNKNOWN = "unknown"
Headers = list[tuple[bytes, bytes]]


def as_table(plans: str | Path | PlanSet | DecisionTable) -> DecisionTable:
    """A DecisionTable from a plan-file path, a PlanSet, or a table (returned as is)."""
    if isinstance(plans, DecisionTable):
        return plans
    if isinstance(plans, PlanSet):
        return compile_plan_set(plans)
    return compile_plan_set(load_plan_set(plans))


class Ruling(NamedTuple):
    """The decision that applies to a request, and the canary that made it, if one did."""

    decision: Decision
    canary: CanaryController | None


class Admission(NamedTuple):
    """The quota's answer for a forwarded decision: admitted or not, its headers, the rule in force."""

    admitted: bool
    headers: Headers
    rule: Rule


class Gateway:
    """The gateway's state and its operations. See the module docstring.

    `plans` is a plan-file path, a PlanSet or a compiled DecisionTable; a bad
    file raises `gateway.core.config.ConfigError` here. `sli` chooses what counts
    as a failed request for the status page, the burn-rate alert and the canary:
    "first-party-denials" (the default) or "5xx". `min_requests` is the evidence the
    status page and the alert need before a class can be degraded or an alert page
    (`slo.DEFAULT_MIN_REQUESTS` in the window). `metrics` turns on Prometheus
    metrics (True, or a GatewayMetrics to share).
    """

    def __init__(
        self,
        plans: str | Path | PlanSet | DecisionTable,
        clock: Callable[[], float] = time.time,
        *,
        sli: str = "first-party-denials",
        slo: float = 0.999,
        min_requests: int = DEFAULT_MIN_REQUESTS,
        metrics: bool | GatewayMetrics = False,
    ) -> None:
        self.clock = clock
        self.rollout = Rollout.of(as_table(plans))
        self.quotas = QuotaLedger(clock)
        self.sli = parse_sli(sli)
        self.availability = AvailabilityTracker()
        self.alert = BurnRateAlert(slo=slo, min_requests=min_requests)
        self.metrics = GatewayMetrics() if metrics is True else (metrics or None)

    @property
    def table(self) -> DecisionTable:
        """The active table."""
        return self.rollout.stage.active

    # Operations on the stage, stamped with the gateway's clock.

    def push(
        self, table: DecisionTable, mode: str = DIRECT, canary: CanaryPolicy | None = None, reason: str = ""
    ) -> None:
        self.rollout.push(table, mode, canary, reason=reason, at=self.clock())

    def promote(self, reason: str = "") -> None:
        self.rollout.promote(reason=reason, at=self.clock())

    def rollback(self, reason: str = "") -> None:
        self.rollout.rollback(reason=reason, at=self.clock())

    # One request: decide, admit, observe.

    def decide(
        self, method: str, raw_path: str, authorization: list[bytes], preflight: str | None = None
    ) -> Ruling:
        """Decide with the active table; beside a candidate, count a shadow divergence or let a
        canary slice enforce the candidate's decision. `preflight`: see `core.decision.decide`."""
        stage = self.rollout.stage
        decision = decide(stage.active, method, raw_path, authorization, preflight=preflight)
        if stage.candidate is None:
            return Ruling(decision, None)
        candidate = decide(stage.candidate, method, raw_path, authorization, preflight=preflight)
        if stage.shadow is not None:
            divergence = stage.shadow.observe(method, raw_path, decision, candidate)
            if divergence is not None and self.metrics is not None:
                self.metrics.shadow_divergence(
                    divergence.client_class, divergence.endpoint_id, divergence.direction
                )
            return Ruling(decision, None)
        canary = stage.canary
        if canary is not None:
            client = decision.client or candidate.client
            endpoint = decision.endpoint or candidate.endpoint
            if client is not None and endpoint is not None and canary.in_slice(client.id, endpoint.id):
                return Ruling(candidate, canary)
        return Ruling(decision, None)

    def admit(self, decision: Decision) -> Admission:
        """Count a forwarded decision against its plan's quota, if it has one."""
        verdict = decision.verdict
        assert verdict is not None
        if verdict.quota is None:
            return Admission(True, [], decision.rule)
        client = decision.client
        assert client is not None  # only a client's plan carries a quota
        admitted, headers = self.quotas.admit(client.id, verdict.quota)
        return Admission(admitted, headers, decision.rule if admitted else quota_spent(verdict.plan))

    def observe(
        self,
        decision: Decision,
        status: int,
        rule: Rule,
        gateway_made: bool,
        seconds: float,
        canary: CanaryController | None,
    ) -> None:
        """Feed one outcome to the availability tracker, the canary controller, the metrics and
        the decision log (`gateway.serving.decision_log`, when its logger is on)."""
        client = decision.client
        metrics = self.metrics
        endpoint = decision.endpoint
        if DECISIONS.isEnabledFor(logging.INFO):
            log_decision(
                decision_record(
                    self.clock(),
                    client.id if client is not None else None,
                    client.client_class if client is not None else None,
                    endpoint.id if endpoint is not None else None,
                    rule.text,
                    status,
                    seconds,
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
        now = self.clock()
        bad = is_bad(self.sli, client.first_party, status, gateway_made)
        server_error = status_kind(status) is StatusKind.SERVER_ERROR  # what a 5xx-only page counts
        self.availability.record(client.client_class, client.first_party, bad, now, server_error)
        if canary is None:
            return
        stage_canary = self.rollout.stage.canary
        if stage_canary is not canary:
            return  # the canary this request belonged to has already ended
        if metrics is not None:
            metrics.canary_request(client.client_class, bad)
        reason = stage_canary.observe(now, client.first_party, bad)
        if reason is not None:
            self.rollout.rollback(reason=f"canary: {reason}", at=now)
            if metrics is not None:
                metrics.canary_rollback("first-party error rate")

    # The documents the control API serves.

    def alert_state(self) -> AlertState:
        return self.alert.evaluate(self.availability, self.clock())

    def status(self) -> dict[str, Any]:
        now = self.clock()
        alert = self.alert.evaluate(self.availability, now)
        document = status_document(
            self.availability, alert, now, self.sli, self.alert.slo, self.alert.min_requests
        )
        document["deployment"] = self.deployment()
        return document

    def deployment(self) -> dict[str, Any]:
        rollout = self.rollout
        stage = rollout.stage
        return {
            "active": stage.active.version,
            "candidate": stage.candidate.version if stage.candidate is not None else None,
            "mode": stage.mode,
            "shadow": stage.shadow.summary() if stage.shadow is not None else None,
            "canary": stage.canary.summary() if stage.canary is not None else None,
            "history": [table.version for table in rollout.history],
            "events": [event.__dict__ for event in rollout.events[-20:]],
        }

    def metrics_exposition(self) -> tuple[bytes, str] | None:
        """The Prometheus text, with the deployment and alert gauges brought up to date; None when off."""
        metrics = self.metrics
        if metrics is None:
            return None
        stage = self.rollout.stage
        candidate = stage.candidate.version if stage.candidate is not None else ""
        metrics.set_deployment(stage.active.version, candidate, stage.mode)
        alert = self.alert_state()
        for alert_rule in self.alert.rules:
            metrics.set_alert(alert_rule.name, alert.firing and alert.fired_by == alert_rule.name)
        return metrics.exposition()
