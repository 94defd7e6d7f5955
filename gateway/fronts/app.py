"""The runnable gateway: `EntitlementMiddleware` in front of the demo upstream or an HTTP upstream.

`gw467 serve` runs `build_gateway_app(settings)` under uvicorn; with several workers
uvicorn imports `gateway.fronts.app:create_app` as a factory in each worker (as does
`gunicorn -k uvicorn.workers.UvicornWorker 'gateway.fronts.app:create_app()'`), which reads
its settings from the environment: GW467_PLANS (the plan file) and the other GW467_ variables
of `gateway.fronts.settings` (`SETTINGS_FIELDS` lists each, with its default and doc), such as
GW467_ADMIN_TOKEN (no token: the admin API is off; with several workers it needs GW467_STORE).
"""

from __future__ import annotations

import os
import sys

from starlette.types import ASGIApp

from gateway.control_plane.reload import ReloadOnHangup
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.fronts.demo_upstream import build_demo_app
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.fronts.proxy import ReverseProxy
from gateway.fronts.settings import GatewaySettings, SettingError, setting_named
from gateway.request_path.decision_log import send_logs_to


def build_gateway_app(settings: GatewaySettings) -> ASGIApp:
    """The gateway in front of `settings.upstream` (a URL, proxied) or the demo app; SIGHUP re-reads
    the plan file (`settings.plans`, which must be set)."""
    plans = settings.plans
    if plans is None:
        raise SettingError(f"set {setting_named('plans').env} to the plan file to serve")
    plan_set = load_plan_set(plans)
    app: ASGIApp = (
        ReverseProxy(settings.upstream, trusted_proxies=settings.trusted_proxies)
        if settings.upstream
        else build_demo_app(plan_set)
    )
    middleware = EntitlementMiddleware(app, compile_plan_set(plan_set), settings=settings)
    if middleware.startup_error is not None:
        return middleware  # it fails the server's lifespan startup with its one line
    return ReloadOnHangup(middleware, middleware.deployment, plans)


def create_app() -> ASGIApp:
    """Factory for `uvicorn --factory gateway.fronts.app:create_app`, configured from the environment.

    With several workers (uvicorn --workers, gunicorn, hypercorn) and no shared store, the
    middleware refuses GW467_ADMIN_TOKEN at lifespan startup: see gateway.fronts.workers."""
    settings = GatewaySettings.from_environment(os.environ)
    send_logs_to(sys.stderr, decisions=settings.decision_log)
    return build_gateway_app(settings)
