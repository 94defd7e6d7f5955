"""The runnable gateway: `EntitlementMiddleware` in front of the demo upstream.

`gw467 serve` runs `build_gateway_app()` under uvicorn; with several workers
uvicorn imports `gateway.serving.app:create_app` as a factory in each worker, which reads
its settings from the environment: GW467_PLANS (the plan file), GW467_SLI,
GW467_METRICS ("0" turns metrics off) and GW467_ADMIN_TOKEN (no token: the admin
API is off).
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.types import ASGIApp

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.serving.middleware import EntitlementMiddleware
from gateway.serving.upstream import build_demo_app

PLANS_VARIABLE = "GW467_PLANS"
SLI_VARIABLE = "GW467_SLI"
METRICS_VARIABLE = "GW467_METRICS"
ADMIN_TOKEN_VARIABLE = "GW467_ADMIN_TOKEN"


def build_gateway_app(
    plans: str | Path,
    *,
    sli: str = "first-party-denials",
    metrics: bool = True,
    admin_token: str | None = None,
) -> EntitlementMiddleware:
    plan_set = load_plan_set(plans)
    return EntitlementMiddleware(
        build_demo_app(plan_set),
        compile_plan_set(plan_set),
        sli=sli,
        metrics=metrics,
        admin_token=admin_token,
    )


def create_app() -> ASGIApp:
    """Factory for `uvicorn --factory gateway.serving.app:create_app`, configured from the environment."""
    plans = os.environ.get(PLANS_VARIABLE)
    if not plans:
        raise RuntimeError(f"set {PLANS_VARIABLE} to the plan file to serve")
    return build_gateway_app(
        plans,
        sli=os.environ.get(SLI_VARIABLE, "first-party-denials"),
        metrics=os.environ.get(METRICS_VARIABLE, "1") != "0",
        admin_token=os.environ.get(ADMIN_TOKEN_VARIABLE) or None,
    )
