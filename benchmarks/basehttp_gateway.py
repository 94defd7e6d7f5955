"""Control: the gateway's decision written as a Starlette `BaseHTTPMiddleware`.

Known to be slow (a task group and memory streams per request), it proves the harness can tell.
"""

from __future__ import annotations

from pathlib import Path

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from gateway.core.decision import decide
from gateway.request_path.responses import RULE_HEADER, body_for
from gateway.request_path.runtime import as_table

_RULE = RULE_HEADER.decode()


class BaseHTTPGateway(BaseHTTPMiddleware):
    """Decide with `gateway.core.decision.decide` in `dispatch`; no quotas, no path rewriting.

    Good enough for the benchmark's request (canonical path, exempt client), not a gateway.
    """

    def __init__(self, app: ASGIApp, plans: str | Path) -> None:
        super().__init__(app)
        self.table = as_table(plans)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        scope = request.scope
        authorization = [value for name, value in scope["headers"] if name.lower() == b"authorization"]
        raw = scope.get("raw_path")
        raw_path = scope["path"] if raw is None else raw.decode("latin-1").partition("?")[0]
        decision = decide(self.table, scope["method"], raw_path, authorization)
        if decision.status is not None:
            return Response(
                body_for(decision.status, decision.rule),
                status_code=decision.status,
                media_type="application/json",
                headers={_RULE: decision.rule.text},
            )
        response = await call_next(request)
        response.headers[_RULE] = decision.rule.text
        return response
