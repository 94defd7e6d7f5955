"""`EntitlementMiddleware`: the pure-ASGI gateway that puts a plan file in front of an app.

HTTP requests are decided by `gateway.decision.decide`; refused ones are answered
here (400, 401, 404, 467, 429) and never reach the app; allowed ones reach it
on the canonical path the decision was taken on, with the client, plan and
endpoint in `scope["state"]`. Lifespan passes through. WebSocket handshakes are
refused (close code 1008, which servers turn into HTTP 403): plan files cannot
grant WebSocket endpoints, and an unguarded upgrade would be a way around them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.compiler import compile_plan_set
from gateway.decision import STATUS_QUOTA, DecisionTable, decide
from gateway.planfile import load_plan_set
from gateway.plans import PlanSet
from gateway.quota import QuotaLedger
from gateway.responses import RULE_HEADER, send_gateway_response

_AUTHORIZATION = b"authorization"


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
    file raises `gateway.config.ConfigError` here, at start-up, not per request.
    """

    def __init__(
        self,
        app: ASGIApp,
        plans: str | Path | PlanSet | DecisionTable,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.table = as_table(plans)
        self.quotas = QuotaLedger(clock)

    def replace_table(self, table: DecisionTable) -> None:
        """Put a new table in force; requests already decided keep the old one."""
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await receive()
                await send({"type": "websocket.close", "code": 1008, "reason": "not entitled"})
                return
            await self.app(scope, receive, send)
            return

        authorization = [
            value for name, value in scope["headers"] if len(name) == 13 and name.lower() == _AUTHORIZATION
        ]
        raw = scope.get("raw_path")
        if raw is None:
            raw_path: str = scope["path"]
        else:
            raw_path = raw.decode("latin-1")
            if "?" in raw_path:
                raw_path = raw_path.partition("?")[0]

        decision = decide(self.table, scope["method"], raw_path, authorization)
        if decision.status is not None:
            await send_gateway_response(send, decision.status, decision.rule)
            return

        verdict = decision.verdict
        client = decision.client
        assert verdict is not None and client is not None and decision.path is not None
        rule = decision.rule
        extra_headers: list[tuple[bytes, bytes]] = []
        if verdict.quota is not None:
            admitted, extra_headers = self.quotas.admit(client.id, verdict.quota)
            if not admitted:
                await send_gateway_response(send, STATUS_QUOTA, f"quota:{verdict.plan}", extra_headers)
                return

        state = dict(scope.get("state") or ())
        state["gw467_client"] = client.identity
        state["gw467_plan"] = verdict.plan
        state["gw467_endpoint"] = decision.endpoint
        state["gw467_rule"] = rule
        forwarded = dict(scope)
        forwarded["state"] = state
        root_path = scope.get("root_path", "")
        if raw_path != decision.path or scope["path"] != root_path + decision.path:
            forwarded["path"] = root_path + decision.path
            forwarded["raw_path"] = decision.path.encode("ascii")
        extra_headers.append((RULE_HEADER, rule.encode()))

        async def send_with_rule(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            await send(message)

        await self.app(forwarded, receive, send_with_rule)
