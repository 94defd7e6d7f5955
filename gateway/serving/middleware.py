"""`EntitlementMiddleware`: the ASGI adapter that puts a plan file in front of an app.

It turns an ASGI call into the runtime's operations (`gateway.serving.runtime.Gateway`):
the raw path and the Authorization headers go to `decide`, a forwarded decision to
`admit`, and the outcome to `observe`. Refused requests are answered here (400, 401,
404, 467, 429) and never reach the app; allowed ones reach it on the canonical path
the decision was taken on, with the client, plan and endpoint in `scope["state"]`.
Paths under /_gw467/ go to the control API. Lifespan passes through. WebSocket
handshakes are refused (close code 1008, which servers turn into HTTP 403): plan
files cannot grant WebSocket endpoints, and an unguarded upgrade would be a way
around them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.decision import DecisionTable, preflight_method
from gateway.core.paths import raw_path_for
from gateway.core.plans import PlanSet
from gateway.core.rules import STATUS_QUOTA
from gateway.serving.control import CONTROL_PREFIX, ControlApi
from gateway.serving.metrics import GatewayMetrics
from gateway.serving.responses import RULE_HEADER, send_gateway_response
from gateway.serving.runtime import Gateway

_AUTHORIZATION = b"authorization"


class EntitlementMiddleware:
    """Decide every HTTP request against a plan file before `app` sees it.

    `plans` is a plan-file path, a PlanSet or a compiled DecisionTable; a bad
    file raises `gateway.core.config.ConfigError` here, at start-up, not per
    request. `clock`, `sli`, `slo` and `metrics` configure the runtime (see
    `Gateway`); pass `gateway=` instead of `plans` to front a runtime built
    elsewhere (the replay does). `admin_token` turns on the admin API under
    /_gw467/admin/ (off when None); `check_token` lets callers other than
    loopback ask /_gw467/check for decisions.
    """

    def __init__(
        self,
        app: ASGIApp,
        plans: str | Path | PlanSet | DecisionTable | None = None,
        clock: Callable[[], float] = time.time,
        *,
        sli: str = "first-party-denials",
        slo: float = 0.999,
        metrics: bool | GatewayMetrics = False,
        admin_token: str | None = None,
        check_token: str | None = None,
        gateway: Gateway | None = None,
    ) -> None:
        if gateway is None:
            if plans is None:
                raise TypeError("EntitlementMiddleware needs plans (a file, PlanSet or table) or gateway")
            gateway = Gateway(plans, clock, sli=sli, slo=slo, metrics=metrics)
        elif plans is not None:
            raise TypeError("EntitlementMiddleware takes plans or gateway, not both")
        self.app = app
        self.gateway = gateway
        self.control = ControlApi(self.gateway, admin_token, check_token)

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

        started = time.perf_counter()
        authorization = [
            value for name, value in scope["headers"] if len(name) == 13 and name.lower() == _AUTHORIZATION
        ]
        method = scope["method"]
        preflight = preflight_method(scope["headers"]) if method == "OPTIONS" else None
        gateway = self.gateway
        decision, canary = gateway.decide(method, raw_path, authorization, preflight)

        if decision.status is not None:
            await send_gateway_response(send, decision.status, decision.rule, bodies=decision.bodies)
            gateway.observe(decision, decision.status, decision.rule, True, _since(started), canary)
            return

        admission = gateway.admit(decision)
        rule = admission.rule
        if not admission.admitted:
            await send_gateway_response(send, STATUS_QUOTA, rule, admission.headers, decision.bodies)
            gateway.observe(decision, STATUS_QUOTA, rule, True, _since(started), canary)
            return
        extra_headers = [(RULE_HEADER, rule.encoded), *admission.headers]

        verdict = decision.verdict
        client = decision.client
        # No client for a public endpoint or a preflight reached without a known key.
        assert verdict is not None and decision.path is not None
        # The scope and its state dict are this request's own (servers build them per
        # request, as the ASGI spec asks), so they are written in place, as Starlette does.
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["gw467_client"] = client.identity if client is not None else None
        state["gw467_plan"] = verdict.plan
        state["gw467_endpoint"] = decision.endpoint
        state["gw467_rule"] = rule.text
        path = decision.path
        root_path = scope.get("root_path")
        forwarded_path = root_path + path if root_path else path
        if raw_path != path or scope["path"] != forwarded_path:
            # Respelled, or under a root path: the app routes on exactly what was decided.
            scope["path"] = forwarded_path
            scope["raw_path"] = raw_path_for(path)
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
            gateway.observe(decision, status, rule, False, _since(started), canary)


def _since(started: float) -> float:
    return time.perf_counter() - started
