"""The gateway's own endpoints under /_gw467/: status, metrics, and the admin API.

- GET /_gw467/status: per client class operational / degraded / outage, from the
  availability tracker under the configured SLI, and the burn-rate alert; in a fleet,
  from the whole fleet's counts (`Deployment.availability`).
  JSON, or a web page (`gateway.control_plane.status_page`) when Accept prefers text/html.
- GET /_gw467/metrics: Prometheus text format (404 when metrics are off).
  Both are public by default; `status_access` "token" asks for a bearer token (401
  otherwise), "loopback" answers only clients on 127.0.0.0/8 or ::1 (403 otherwise).
- /_gw467/check: the decision for a request another proxy holds (`gateway.control_plane.check_endpoint`);
  loopback callers, or callers with the check token, only.
- /_gw467/admin/...: push a plan file (direct, shadow or canary), promote, roll
  back, read the deployment, read back the plan file of the active table or the
  candidate (`plans/active`, `plans/candidate`). Off unless an admin token was configured; every call
  needs `Authorization: Bearer <token>`, compared in constant time. A plan file
  that fails validation is refused with 400 and one line, and nothing changes.
  Each acts on the gateway's `Deployment` (`gateway.control_plane.deployment`): this process's
  stage, or with a shared store the whole fleet's (stored, audited and published; the deployment
  document lists every live worker). `rollback?to=VERSION` goes back to a version of the
  history. While a fleet's store is down, changes answer 503 with one line.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from gateway.control_plane.check_endpoint import CHECK_PATH, answer_check, may_ask
from gateway.control_plane.deployment import Deployment, DeploymentUnavailable
from gateway.control_plane.off_loop import built_off_the_loop
from gateway.control_plane.stage_document import RolloutError
from gateway.control_plane.status_page import HTML_CONTENT_TYPE, render_status_page, wants_html
from gateway.core.compiler import compile_plan_set
from gateway.core.config import ConfigError
from gateway.core.credentials import CredentialProblem, bearer_key
from gateway.core.decision import DecisionTable
from gateway.core.planfile import parse_plan_set
from gateway.request_path.canary import UNITS, CanaryPolicy
from gateway.request_path.peers import from_loopback
from gateway.request_path.responses import BEARER_CHALLENGE
from gateway.request_path.runtime import Gateway
from gateway.request_path.stage import CANARY, MODES

CONTROL_PREFIX = "/_gw467/"
ADMIN_PREFIX = "/_gw467/admin/"
# A pushed plan file: room for a 100,000-endpoint catalogue (about 10 MiB as OpenAPI imports write it).
MAX_PLAN_BYTES = 16 << 20
UPLOAD_SOURCE = "<pushed plan file>"
VARY_ACCEPT = ((b"vary", b"accept"),)  # /status answers HTML or JSON by the Accept header

STATUS_PATHS = ("/_gw467/status", "/_gw467/metrics")


class ControlApi:
    """Serves /_gw467/ for one gateway runtime.

    `status_access` guards /status and /metrics (see the module docstring); its token
    is `status_token`, or the admin token when that is None. The values arrive checked
    (`gateway.fronts.settings.GatewaySettings`: "token" comes with a token).
    """

    def __init__(
        self,
        gateway: Gateway,
        deployment: Deployment,
        admin_token: str | None,
        status_access: str,
        status_token: str | None,
        check_token: str | None,
    ) -> None:
        self.gateway = gateway
        self.deployment = deployment
        self._admin_token = admin_token.encode() if admin_token else None
        token = status_token or admin_token
        self._status_access = status_access
        self._status_token = token.encode() if status_access == "token" and token else None
        self._check_token = check_token.encode() if check_token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """Answer a request for `path`, the raw path below the root path, starting /_gw467/."""
        method = scope["method"]
        if path.startswith(ADMIN_PREFIX):
            await self._admin(scope, receive, send, path.removeprefix(ADMIN_PREFIX), method)
        elif path in STATUS_PATHS and self._status_access != "public" and not self._may_read_status(scope):
            if self._status_access == "token":
                await _error(send, 401, "gateway status: missing or wrong bearer token", (BEARER_CHALLENGE,))
            else:
                await _error(send, 403, "gateway status is served to loopback clients only")
        elif path == "/_gw467/status" and method == "GET":
            status = self.gateway.status(await self.deployment.availability())
            if wants_html(scope["headers"]):
                await _send(send, 200, render_status_page(status), HTML_CONTENT_TYPE, VARY_ACCEPT)
            else:
                await _send(send, 200, json.dumps(status).encode(), b"application/json", VARY_ACCEPT)
        elif path == "/_gw467/metrics" and method == "GET":
            await self._metrics(send)
        elif path == CHECK_PATH:
            if not may_ask(scope, self._check_token):
                await _error(send, 403, "check: only from loopback, or with x-gw467-check-token")
            elif not await answer_check(self.gateway, scope, send):
                await _error(send, 400, "check: send X-Original-Method and X-Original-URI")
        else:
            await _error(send, 404, f"no such gateway endpoint: {method} {path}")

    async def _metrics(self, send: Send) -> None:
        exposition = self.gateway.metrics_exposition(await self.deployment.availability())
        if exposition is None:
            await _error(send, 404, "metrics are off (start the gateway with metrics enabled)")
            return
        body, content_type = exposition
        await _send(send, 200, body, content_type.encode())

    async def _admin(self, scope: Scope, receive: Receive, send: Send, action: str, method: str) -> None:
        if self._admin_token is None:
            await _error(send, 404, "the admin API is off (no admin token configured)")
            return
        if not self._authorized(scope):
            await _error(send, 401, "admin API: missing or wrong bearer token")
            return
        deployment = self.deployment
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        who = query.get("who", [f"admin API ({_peer(scope)})"])[0]
        reason = query.get("reason", ["admin API"])[0]
        try:
            if action == "deployment" and method == "GET":
                await _json(send, 200, await self._deployment())
            elif action == "plans" and method == "POST":
                await self._push(scope, receive, send, who, reason)
            elif action in ("plans/active", "plans/candidate") and method == "GET":
                await self._plan_file(send, action.removeprefix("plans/"))
            elif action == "promote" and method == "POST":
                await deployment.promote(who, reason)
                await _json(send, 200, await self._deployment())
            elif action == "rollback" and method == "POST":
                await deployment.rollback(who, reason, query.get("to", [None])[0])
                await _json(send, 200, await self._deployment())
            else:
                await _error(send, 404, f"no such admin action: {method} {ADMIN_PREFIX}{action}")
        except RolloutError as error:
            await _error(send, 409, str(error))
        except DeploymentUnavailable as error:
            await _error(send, 503, str(error))

    async def _deployment(self) -> dict[str, Any]:
        return await self.deployment.document()

    def _authorized(self, scope: Scope) -> bool:
        assert self._admin_token is not None
        return _bearer_matches(scope, self._admin_token)

    def _may_read_status(self, scope: Scope) -> bool:
        if self._status_token is not None:
            return _bearer_matches(scope, self._status_token)
        return from_loopback(scope)

    async def _plan_file(self, send: Send, which: str) -> None:
        stage = self.gateway.in_force.stage
        table = stage.active if which == "active" else stage.candidate
        if table is None:
            await _error(send, 404, "no candidate in shadow or canary")
        elif not table.plan_set.text:
            await _error(send, 404, f"the {which} table ({table.version}) was built in code, not read")
        else:
            await _send(send, 200, table.plan_set.text.encode(), b"application/toml; charset=utf-8")

    async def _push(self, scope: Scope, receive: Receive, send: Send, who: str, reason: str) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        mode = query.get("mode", ["direct"])[0]
        if mode not in MODES:
            await _error(send, 400, f"mode must be one of {', '.join(MODES)}, got {mode!r}")
            return
        policy = None
        if mode == CANARY:
            try:
                policy = CanaryPolicy(
                    fraction=float(query.get("fraction", ["0.1"])[0]),
                    unit=query.get("unit", [UNITS[0]])[0],
                )
            except ValueError as error:
                await _error(send, 400, f"canary: {error}")
                return
        body = await _read_body(receive, MAX_PLAN_BYTES)
        if body is None:
            await _error(send, 413, f"plan file larger than {MAX_PLAN_BYTES} bytes")
            return
        try:
            text = body.decode("utf-8-sig")
            # In a worker thread: a large catalogue takes seconds, and requests go on meanwhile.
            table = await built_off_the_loop(_compile_upload, text)
        except UnicodeDecodeError:
            await _error(send, 400, f"{UPLOAD_SOURCE}: not UTF-8 text")
            return
        except ConfigError as error:
            await _error(send, 400, str(error))
            return
        await self.deployment.push(table, mode, policy, who, reason)
        await _json(send, 200, await self._deployment())


def _compile_upload(text: str) -> DecisionTable:
    return compile_plan_set(parse_plan_set(text, UPLOAD_SOURCE))


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}" if client else "unknown peer"


def _bearer_matches(scope: Scope, expected: bytes) -> bool:
    """Whether the request's bearer token is `expected`, compared in constant time."""
    values = [v for k, v in scope["headers"] if k.lower() == b"authorization"]
    try:
        token = bearer_key(values)
    except CredentialProblem:
        return False
    return hmac.compare_digest(token, expected)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _json(send: Send, status: int, document: dict[str, Any]) -> None:
    await _send(send, status, json.dumps(document).encode(), b"application/json")


async def _error(send: Send, status: int, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps({"errors": [{"message": message}]}).encode()
    await _send(send, status, body, b"application/json", extra)


async def _send(
    send: Send, status: int, body: bytes, content_type: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
