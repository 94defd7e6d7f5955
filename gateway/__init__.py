"""gw467: an API-gateway entitlement simulator of Twitter's error-467 outage (2023-03-06).

Put `EntitlementMiddleware` in front of any ASGI app with a plan file; see README.md.
"""

from gateway.core.compiler import compile_plan_set
from gateway.core.config import ConfigError
from gateway.core.decision import Decision, DecisionTable, decide
from gateway.core.planfile import load_plan_set, parse_plan_set
from gateway.core.plans import PlanSet
from gateway.serving.middleware import EntitlementMiddleware

__all__ = [
    "ConfigError",
    "Decision",
    "DecisionTable",
    "EntitlementMiddleware",
    "PlanSet",
    "compile_plan_set",
    "decide",
    "load_plan_set",
    "parse_plan_set",
]
