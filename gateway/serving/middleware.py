"""`EntitlementMiddleware`: the pure-ASGI gateway that puts a plan file in front of an app.

HTTP requests are decided by `gateway.core.decision.decide` against the stage in force
(`gateway.serving.rollout`); refused ones are answered here (400, 401, 404, 467, 429) and
never reach the app; allowed ones reach it on the canonical path the decision was
taken on, with the client, plan and endpoint in `scope["state"]`. A candidate
table may be shadowed (decided, never enforced) or canaried (enforced for a
hashed slice). Every outcome feeds the availability tracker behind
`/_gw467/status`, the canary controller and, when enabled, Prometheus metrics.
Lifespan passes through. WebSocket handshakes are refused (close code 1008,
which servers turn into HTTP 403): plan files cannot grant WebSocket endpoints,
and an unguarded upgrade would be a way around them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import STATUS_QUOTA, Decision, DecisionTable, decide
from gateway.core.planfile import load_plan_set
from gateway.core.plans import PlanSet
from gateway.serving.canary import CanaryController
from gateway.serving.control import CONTROL_PREFIX, ControlApi
from gateway.serving.metrics import GatewayMetrics
from gateway.serving.quota import QuotaLedger
from gateway.serving.responses import send_gateway_response
from gateway.serving.rollout import Rollout, Stage
from gateway.serving.slo import AvailabilityTracker, BurnRateAlert, is_bad, parse_sli

_AUTHORIZATION = b"authorization"
UNKNOWN = "unknown"


def as_table(plans: str | Path | PlanSet | DecisionTable) -> DecisionTable:
    """A DecisionTable from a plan-file path, a PlanSet, or a table (returned as is)."""
    if isinstance(plans, DecisionTable):
        return plans
    if isinstance(plans, PlanSet):
        return compile_plan_set(plans)
    return compile_plan_set(load_plan_set(plans))


class EntitlementMiddleware:
    """Decide every HTTP request against a plan file before `app` sees it.

    `plans` is a plan-file path, a PlanSet or a compiled DecisionTable; a bad
    file raises `gateway.core.config.ConfigError` here, at start-up, not per request.
    `sli` chooses what counts as a failed request for the status page, the
    burn-rate alert and the canary: "first-party-denials" (the default: any
    refusal of a first-party request, or a 5xx) or "5xx". `metrics` turns on
    Prometheus metrics at /_gw467/metrics. `admin_token` turns on the admin API
    under /_gw467/admin/ (off when None).
    """

    def __init__(
        self,
        app: ASGIApp,
        plans: str | Path | PlanSet | DecisionTable,
        clock: Callable[[], float] = time.time,
        *,
        sli: str = "first-party-denials",
        slo: float = 0.999,
        metrics: bool | GatewayMetrics = False,
        admin_token: str | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.rollout = Rollout.of(as_table(plans))
        self.quotas = QuotaLedger(clock)
        self.sli = parse_sli(sli)
        self.availability = AvailabilityTracker()
        self.alert = BurnRateAlert(slo=slo)
        self.metrics = GatewayMetrics() if metrics is True else (metrics or None)
        self.control = ControlApi(self, admin_token)

    @property
    def table(self) -> DecisionTable:
        """The active table."""
        return self.rollout.stage.active

    def replace_table(self, table: DecisionTable) -> None:
        """Put a new table in force directly; requests already decided keep the old one."""
        self.rollout.push(table, reason="replace_table", at=self.clock())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await receive()
                await send({"type": "websocket.close", "code": 1008, "reason": "not entitled"})
                return
            await self.app(scope, receive, send)
            return

        raw = scope.get("raw_path")
        if raw is None:
            raw_path: str = scope["path"]
        else:
            raw_path = raw.decode("latin-1")
            if "?" in raw_path:
                raw_path = raw_path.partition("?")[0]
        if raw_path.startswith(CONTROL_PREFIX):
            await self.control(scope, receive, send)
            return

        started = time.perf_counter() if self.metrics is not None else 0.0
        authorization = [
            value for name, value in scope["headers"] if len(name) == 13 and name.lower() == _AUTHORIZATION
        ]
        method = scope["method"]
        stage = self.rollout.stage
        decision = decide(stage.active, method, raw_path, authorization)
        canary = None
        if stage.candidate is not None:
            decision, canary = self._beside_candidate(
                stage, stage.candidate, decision, method, raw_path, authorization
            )

        if decision.status is not None:
            await send_gateway_response(send, decision.status, decision.rule)
            self._observe(decision, decision.status, decision.rule, True, started, canary)
            return

        verdict = decision.verdict
        client = decision.client
        assert verdict is not None and client is not None and decision.path is not None
        rule = decision.rule
        extra_headers = [verdict.rule_header]
        if verdict.quota is not None:
            admitted, quota_headers = self.quotas.admit(client.id, verdict.quota)
            if not admitted:
                rule = f"quota:{verdict.plan}"
                await send_gateway_response(send, STATUS_QUOTA, rule, quota_headers)
                self._observe(decision, STATUS_QUOTA, rule, True, started, canary)
                return
            extra_headers.extend(quota_headers)

        # The scope and its state dict are this request's own (servers build them per
        # request, as the ASGI spec asks), so they are written in place, as Starlette does.
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["gw467_client"] = client.identity
        state["gw467_plan"] = verdict.plan
        state["gw467_endpoint"] = decision.endpoint
        state["gw467_rule"] = rule
        path = decision.path
        root_path = scope.get("root_path")
        forwarded_path = root_path + path if root_path else path
        if raw_path != path or scope["path"] != forwarded_path:
            # Respelled, or under a root path: the app routes on exactly what was decided.
            scope["path"] = forwarded_path
            scope["raw_path"] = path.encode("ascii")
        status = 500  # what the server answers if the app raises before starting a response

        async def send_with_rule(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            await send(message)

        try:
            await self.app(scope, receive, send_with_rule)
        finally:
            self._observe(decision, status, rule, False, started, canary)

    def _beside_candidate(
        self,
        stage: Stage,
        candidate_table: DecisionTable,
        decision: Decision,
        method: str,
        raw_path: str,
        authorization: list[bytes],
    ) -> tuple[Decision, CanaryController | None]:
        """Decide with the candidate too: count a shadow divergence, or let a canary slice enforce it."""
        candidate = decide(candidate_table, method, raw_path, authorization)
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
            if client is not None and endpoint is not None and canary.in_slice(client.id, endpoint.id):
                return candidate, canary
        return decision, None

    def _observe(
        self,
        decision: Decision,
        status: int,
        rule: str,
        gateway_made: bool,
        started: float,
        canary: CanaryController | None,
    ) -> None:
        """Feed one outcome to the availability tracker, the canary controller and the metrics."""
        client = decision.client
        endpoint = decision.endpoint
        metrics = self.metrics
        if metrics is not None:
            metrics.observe_request(
                client.client_class if client is not None else UNKNOWN,
                endpoint.surface if endpoint is not None else UNKNOWN,
                status,
                rule,
                time.perf_counter() - started,
            )
        if client is None:
            return
        now = self.clock()
        bad = is_bad(self.sli, client.first_party, status, gateway_made)
        server_error = is_bad("5xx", client.first_party, status, gateway_made)
        self.availability.record(client.client_class, client.first_party, bad, now, server_error)
        if canary is not None:
            stage_canary = self.rollout.stage.canary
            if stage_canary is not canary:
                return  # the canary this request belonged to has already ended
            if self.metrics is not None:
                self.metrics.canary_request(client.client_class, bad)
            reason = stage_canary.observe(now, client.first_party, bad)
            if reason is not None:
                self.rollout.rollback(reason=f"canary: {reason}", at=now)
                if self.metrics is not None:
                    self.metrics.canary_rollback("first-party error rate")
