"""`EntitlementMiddleware`: the ASGI adapter that puts a plan file in front of an app.

It turns an ASGI call into the runtime's operations (`gateway.request_path.runtime.Gateway`):
the raw path and the Authorization headers go to `decide`, a forwarded decision to
`admit`, and the outcome to `observe`. Refused requests are answered here (400, 401,
404, 467, 429, with CORS headers for the plan file's `cors_origins`) and never reach the
app; a method or URL override is refused before the decision (400, see
`gateway.core.forwarding`). Allowed requests reach the app on the canonical path the
decision was taken on, with the headers it was taken on minus any `x-gw467-*` spelling
from the client, and the client, plan and endpoint in `scope["state"]`.
Under a root path (`scope["root_path"]`) the decision is taken on the path below it,
whether the server put the root path in `path`/`raw_path` (uvicorn 0.26+) or not.
Paths under /_gw467/ go to the control API. Lifespan passes through. WebSocket
handshakes are refused (close code 1008, which servers turn into HTTP 403): plan
files cannot grant WebSocket endpoints, and an unguarded upgrade would be a way
around them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Unpack

from mypy_extensions import mypyc_attr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.control_plane.control_api import CONTROL_PREFIX, ControlApi
from gateway.control_plane.deployment import Deployment
from gateway.control_plane.deployment_for import deployment_for
from gateway.core.config import ConfigError
from gateway.core.decision import Decision, DecisionTable, preflight_method
from gateway.core.forwarding import GATEWAY_PREFIX, normalized, read_request
from gateway.core.paths import raw_path_for
from gateway.core.plans import PlanSet
from gateway.core.rules import STATUS_BAD_PATH, path_refused
from gateway.fronts.settings import APP_SETTINGS, GatewaySettings, MiddlewareKeywords
from gateway.fronts.workers import SplitAdminApi, refuse_split_admin_api, sibling_processes
from gateway.request_path.metrics import GatewayMetrics
from gateway.request_path.responses import RULE_HEADER, refusal_cors_headers, send_gateway_response
from gateway.request_path.runtime import Gateway
from gateway.stores.redis_store import open_store
from gateway.stores.state_store import StateStore


# Users may subclass the middleware, which mypyc must allow when this module is compiled.
@mypyc_attr(allow_interpreted_subclasses=True)
class EntitlementMiddleware:
    """Decide every HTTP request against a plan file before `app` sees it.

    `plans` is a plan-file path, a shipped plan file's name ("2023-03-06-billing-fixed"),
    a PlanSet or a compiled DecisionTable, loaded and compiled here, once. A bad file does
    not raise here: Starlette builds `Middleware(...)` and `add_middleware` lazily, inside
    the server's first call, where uvicorn's default lifespan mode would swallow an
    exception and serve 500s.
    The `ConfigError` is kept in `startup_error` and answered to the server's
    `lifespan.startup` as `lifespan.startup.failed` with its one line, so the server
    stops before it accepts a connection (uvicorn: exit 3), however the middleware
    was built. A server without lifespan gets 500 with that line for every request.
    To fail in your own code instead, load the file first (`load_plan_set` raises).
    An admin API (`admin_token`) without a shared store, in a process the server may run
    several of (gunicorn, `uvicorn --workers N`, hypercorn: see `gateway.fronts.workers`),
    fails the same way: a push would reach one process and leave the others on the old table.

    `settings` (`gateway.fronts.settings.GatewaySettings`) configures it, or its fields as
    keywords (`sli=`, `admin_token=`, `store=`, ...: each named, defaulted, checked and documented
    there; metrics off unless asked), not both. `admin_token` turns on the admin API under
    /_gw467/admin/. `store` may also be a `StateStore`, and `metrics` a `GatewayMetrics` to share.
    `clock` is the runtime's wall clock, `timer` the monotonic clock request durations are
    measured with. Pass `gateway=` instead of `plans` to front a runtime built elsewhere, and
    `deployment=` to change its stage through a deployment of your own (the replay does).

    Pushes go to the runtime's deployment (`gateway.control_plane.deployment`): with a shared
    store (a redis:// URL or a shared `StateStore`), a fleet's (`gateway.control_plane.fleet`),
    joined at lifespan startup (or at the first request, under a server without lifespan),
    keeping its last good version under `state_dir`.
    """

    def __init__(
        self,
        app: ASGIApp,
        plans: str | Path | PlanSet | DecisionTable | None = None,
        clock: Callable[[], float] = time.time,
        *,
        timer: Callable[[], float] = time.perf_counter,
        gateway: Gateway | None = None,
        deployment: Deployment | None = None,
        settings: GatewaySettings | None = None,
        **options: Unpack[MiddlewareKeywords],
    ) -> None:
        store = options.get("store")
        metrics = options.get("metrics")
        settings = _settings_of(settings, dict(options))
        self.settings = settings
        self.app = app
        self.timer = timer
        self.startup_error: ConfigError | SplitAdminApi | None = None
        if gateway is None:
            if plans is None:
                raise TypeError("EntitlementMiddleware needs plans (a file, PlanSet or table) or gateway")
            chosen = store if isinstance(store, StateStore) else open_store(settings.store)
            try:
                gateway = settings.runtime(
                    plans,
                    clock,
                    store=chosen,
                    metrics=metrics if isinstance(metrics, GatewayMetrics) else None,
                )
            except ConfigError as error:
                self.startup_error = error
                return
        elif plans is not None or store is not None:
            raise TypeError("EntitlementMiddleware takes plans (and store) or gateway, not both")
        admin_token = settings.admin_token
        try:
            refuse_split_admin_api(
                admin_token, gateway.store.shared, sibling_processes() if admin_token else None
            )
        except SplitAdminApi as error:
            self.startup_error = error
            return
        self.gateway = gateway
        state_dir = Path(settings.state_dir) if settings.state_dir else None
        self.deployment = deployment if deployment is not None else deployment_for(gateway, state_dir)
        self._started = False
        self.control = ControlApi(
            self.gateway,
            self.deployment,
            admin_token,
            settings.status_access,
            settings.status_token,
            settings.check_token,
        )
        self._rule_on_app_responses = settings.rule_header == "all"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.startup_error is not None:
            await _refuse_to_start(self.startup_error, scope, receive, send)
            return
        if not self._started:
            if scope["type"] == "lifespan":
                await self._lifespan_with_deployment(self.deployment, scope, receive, send)
                return
            self._started = True
            await self.deployment.start()
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
        root_path = scope.get("root_path")
        if root_path and raw_path.startswith(root_path):
            # uvicorn 0.26+ puts the root path in `path` and `raw_path`; older servers leave it
            # out. Starlette routes on what follows a root path that ends at a segment
            # boundary, so the decision is taken on that same path.
            below = raw_path[len(root_path) :]
            if not below or below[0] == "/":
                raw_path = below or "/"
        if raw_path.startswith(CONTROL_PREFIX):
            await self.control(scope, receive, send, raw_path)
            return

        timer = self.timer
        started = timer()
        headers = scope["headers"]
        authorization, override, gateway_named = read_request(headers, scope.get("query_string", b""))
        method = scope["method"]
        gateway = self.gateway
        if override is not None:
            # The app would serve another method or URL than the one decided: refused before
            # the decision, whatever it would have been.
            decision, canary = (
                Decision(
                    STATUS_BAD_PATH, path_refused(override), bodies=gateway.in_force.stage.active.bodies
                ),
                None,
            )
        else:
            preflight = preflight_method(headers) if method == "OPTIONS" else None
            decision, canary = gateway.decide(method, raw_path, authorization, preflight)

        if decision.status is not None:
            cors = refusal_cors_headers(gateway.in_force.stage.active.cors_origins, headers)
            await send_gateway_response(send, decision.status, decision.rule, cors, decision.bodies)
            gateway.observe(
                decision, decision.status, decision.rule, True, timer() - started, canary, method, raw_path
            )
            return

        verdict = decision.verdict
        # No client for a public endpoint or a preflight reached without a known key.
        assert verdict is not None and decision.path is not None
        rule = decision.rule
        extra_headers: tuple[tuple[bytes, bytes], ...]
        if verdict.quota is None:
            # Nothing to count: no call into the quota ledger or the store.
            extra_headers = ((RULE_HEADER, rule.encoded),) if self._rule_on_app_responses else ()
        else:
            admission = await gateway.admit(decision)
            rule = admission.rule
            if not admission.admitted:
                cors = refusal_cors_headers(gateway.in_force.stage.active.cors_origins, headers)
                await send_gateway_response(
                    send, admission.status, rule, [*admission.headers, *cors], decision.bodies
                )
                gateway.observe(
                    decision, admission.status, rule, True, timer() - started, canary, method, raw_path
                )
                return
            if self._rule_on_app_responses:
                extra_headers = ((RULE_HEADER, rule.encoded), *admission.headers)
            else:
                extra_headers = tuple(admission.headers)

        client = decision.client
        # The scope and its state dict are this request's own (servers build them per
        # request, as the ASGI spec asks), so they are written in place, as Starlette does.
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["gw467_client"] = client.identity if client is not None else None
        state["gw467_plan"] = verdict.plan
        state["gw467_endpoint"] = decision.endpoint
        state["gw467_rule"] = rule.text
        # The headers the decision was taken on, in a list of this request's own: a server that
        # appends chunk trailers to its header list (uvicorn's httptools) adds none the app sees.
        # A client's x-gw467-* headers are dropped: only the gateway says who called.
        if gateway_named:
            scope["headers"] = [
                (name, value) for name, value in headers if not normalized(name).startswith(GATEWAY_PREFIX)
            ]
        else:
            scope["headers"] = list(headers)
        path = decision.path
        forwarded_path = root_path + path if root_path else path
        if raw_path != path or scope["path"] != forwarded_path:
            # Respelled, or a server that left the root path out: the app routes on exactly
            # what was decided, in the shape uvicorn gives (root path in both).
            scope["path"] = forwarded_path
            scope["raw_path"] = raw_path_for(forwarded_path)
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
            gateway.observe(decision, status, rule, False, timer() - started, canary, method, raw_path)

    async def _lifespan_with_deployment(
        self, deployment: Deployment, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Pass lifespan to the app, starting the deployment at startup (a fleet joins its store)
        and stopping it at shutdown."""

        async def receive_and_join() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup" and not self._started:
                self._started = True
                await deployment.start()
            elif message["type"] == "lifespan.shutdown":
                await deployment.stop()
            return message

        await self.app(scope, receive_and_join, send)


def _settings_of(settings: GatewaySettings | None, options: dict[str, Any]) -> GatewaySettings:
    """The middleware's settings: `settings`, or the ones its keywords give (a store or metrics
    object goes to the runtime beside them). The app's own settings are not the middleware's."""
    for name in APP_SETTINGS:
        if name in options:
            raise TypeError(f"EntitlementMiddleware does not take {name} (build_gateway_app does)")
    if not isinstance(options.get("store", ""), str):
        del options["store"]
    if isinstance(options.get("metrics"), GatewayMetrics):
        options["metrics"] = True
    if settings is None:
        return GatewaySettings.embedded(**options)
    if options:
        raise TypeError("EntitlementMiddleware takes settings= or setting keywords, not both")
    return settings


async def _refuse_to_start(
    error: ConfigError | SplitAdminApi, scope: Scope, receive: Receive, send: Send
) -> None:
    """Fail the server's lifespan startup with `error`'s line; without lifespan, answer 500 with it.

    After `lifespan.startup.failed` the error is raised, as Starlette's router does: uvicorn
    then stops quietly (it has the message), and Starlette's TestClient raises it.
    """
    kind = scope["type"]
    if kind == "lifespan":
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.failed", "message": str(error)})
            raise error
        await send({"type": "lifespan.shutdown.complete"})
    elif kind == "http":
        body = json.dumps({"errors": [{"message": f"gw467 is not configured: {error}"}]}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif kind == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1011, "reason": "gw467 is not configured"})
