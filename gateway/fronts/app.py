"""The runnable gateway: `EntitlementMiddleware` in front of the demo upstream or an HTTP upstream.

`gw467 serve` runs `build_gateway_app()` under uvicorn; with several workers
uvicorn imports `gateway.fronts.app:create_app` as a factory in each worker (as does
`gunicorn -k uvicorn.workers.UvicornWorker 'gateway.fronts.app:create_app()'`), which reads
its settings from the environment: GW467_PLANS (the plan file), GW467_SLI,
GW467_METRICS ("0" turns metrics off), GW467_ADMIN_TOKEN (no token: the admin
API is off; with several workers it needs GW467_STORE), GW467_MIN_REQUESTS,
GW467_STATUS_ACCESS, GW467_STATUS_TOKEN and
GW467_RULE_HEADER (see `EntitlementMiddleware`), GW467_CHECK_TOKEN (lets non-loopback
callers use /_gw467/check), GW467_UPSTREAM (an http:// URL to proxy to instead of the demo
upstream), GW467_DECISION_LOG ("0": no decision log on stderr), GW467_STORE (memory, or a
redis:// URL: fleet mode), GW467_STORE_FAILURE (local, open or closed), GW467_STATE_DIR
(where a fleet worker keeps its last good version) and GW467_TRUSTED_PROXIES (comma-separated
addresses or networks whose X-Forwarded-* the upstream proxy keeps).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from starlette.types import ASGIApp

from gateway.control_plane.reload import ReloadOnHangup
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.fronts.demo_upstream import build_demo_app
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.fronts.proxy import ReverseProxy
from gateway.request_path.decision_log import send_logs_to
from gateway.request_path.runtime import LOCAL
from gateway.request_path.slo import DEFAULT_MIN_REQUESTS

PLANS_VARIABLE = "GW467_PLANS"
SLI_VARIABLE = "GW467_SLI"
METRICS_VARIABLE = "GW467_METRICS"
ADMIN_TOKEN_VARIABLE = "GW467_ADMIN_TOKEN"
MIN_REQUESTS_VARIABLE = "GW467_MIN_REQUESTS"
STATUS_ACCESS_VARIABLE = "GW467_STATUS_ACCESS"
STATUS_TOKEN_VARIABLE = "GW467_STATUS_TOKEN"
RULE_HEADER_VARIABLE = "GW467_RULE_HEADER"
CHECK_TOKEN_VARIABLE = "GW467_CHECK_TOKEN"
UPSTREAM_VARIABLE = "GW467_UPSTREAM"
DECISION_LOG_VARIABLE = "GW467_DECISION_LOG"
STORE_VARIABLE = "GW467_STORE"
STORE_FAILURE_VARIABLE = "GW467_STORE_FAILURE"
STATE_DIR_VARIABLE = "GW467_STATE_DIR"
TRUSTED_PROXIES_VARIABLE = "GW467_TRUSTED_PROXIES"


def build_gateway_app(
    plans: str | Path,
    *,
    sli: str = "first-party-denials",
    metrics: bool = True,
    admin_token: str | None = None,
    min_requests: int = DEFAULT_MIN_REQUESTS,
    status_access: str = "public",
    status_token: str | None = None,
    rule_header: str = "all",
    check_token: str | None = None,
    upstream: str | None = None,
    store: str = "memory",
    store_failure: str = LOCAL,
    state_dir: str | None = None,
    trusted_proxies: Sequence[str] = (),
) -> ASGIApp:
    """The gateway in front of `upstream` (a URL, proxied) or the demo app; SIGHUP re-reads `plans`."""
    plan_set = load_plan_set(plans)
    app: ASGIApp = (
        ReverseProxy(upstream, trusted_proxies=trusted_proxies) if upstream else build_demo_app(plan_set)
    )
    middleware = EntitlementMiddleware(
        app,
        compile_plan_set(plan_set),
        sli=sli,
        min_requests=min_requests,
        metrics=metrics,
        admin_token=admin_token,
        status_access=status_access,
        status_token=status_token,
        rule_header=rule_header,
        check_token=check_token,
        store=store,
        store_failure=store_failure,
        state_dir=state_dir,
    )
    if middleware.startup_error is not None:
        return middleware  # it fails the server's lifespan startup with its one line
    return ReloadOnHangup(middleware, middleware.deployment, plans)


def create_app() -> ASGIApp:
    """Factory for `uvicorn --factory gateway.fronts.app:create_app`, configured from the environment."""
    plans = os.environ.get(PLANS_VARIABLE)
    if not plans:
        raise RuntimeError(f"set {PLANS_VARIABLE} to the plan file to serve")
    send_logs_to(sys.stderr, decisions=os.environ.get(DECISION_LOG_VARIABLE, "1") != "0")
    store = os.environ.get(STORE_VARIABLE) or "memory"
    # With several workers (uvicorn --workers, gunicorn, hypercorn) and no shared store, the
    # middleware refuses GW467_ADMIN_TOKEN at lifespan startup: see gateway.fronts.workers.
    admin_token = os.environ.get(ADMIN_TOKEN_VARIABLE) or None
    return build_gateway_app(
        plans,
        sli=os.environ.get(SLI_VARIABLE, "first-party-denials"),
        metrics=os.environ.get(METRICS_VARIABLE, "1") != "0",
        admin_token=admin_token,
        min_requests=int(os.environ.get(MIN_REQUESTS_VARIABLE, DEFAULT_MIN_REQUESTS)),
        status_access=os.environ.get(STATUS_ACCESS_VARIABLE, "public"),
        status_token=os.environ.get(STATUS_TOKEN_VARIABLE) or None,
        rule_header=os.environ.get(RULE_HEADER_VARIABLE, "all"),
        check_token=os.environ.get(CHECK_TOKEN_VARIABLE) or None,
        upstream=os.environ.get(UPSTREAM_VARIABLE) or None,
        store=store,
        store_failure=os.environ.get(STORE_FAILURE_VARIABLE) or LOCAL,
        state_dir=os.environ.get(STATE_DIR_VARIABLE) or None,
        trusted_proxies=[entry for entry in os.environ.get(TRUSTED_PROXIES_VARIABLE, "").split(",") if entry],
    )
