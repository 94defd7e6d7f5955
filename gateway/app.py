"""The runnable gateway: `EntitlementMiddleware` in front of the demo upstream.

`gw467 serve` runs `create_app()` under uvicorn; with several workers uvicorn
imports `gateway.app:create_app` as a factory and reads the plan file from the
`GW467_PLANS` environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.types import ASGIApp

from gateway.compiler import compile_plan_set
from gateway.middleware import EntitlementMiddleware
from gateway.planfile import load_plan_set
from gateway.upstream import build_demo_app

PLANS_VARIABLE = "GW467_PLANS"


def build_gateway_app(plans: str | Path) -> EntitlementMiddleware:
    plan_set = load_plan_set(plans)
    return EntitlementMiddleware(build_demo_app(plan_set), compile_plan_set(plan_set))


def create_app() -> ASGIApp:
    """Factory for `uvicorn --factory gateway.app:create_app` (plan file from GW467_PLANS)."""
    plans = os.environ.get(PLANS_VARIABLE)
    if not plans:
        raise RuntimeError(f"set {PLANS_VARIABLE} to the plan file to serve")
    return build_gateway_app(plans)
