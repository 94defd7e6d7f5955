"""gw467: an API-gateway entitlement simulator of Twitter's error-467 outage (2023-03-06).

Put `EntitlementMiddleware` in front of any ASGI app with a plan file; see README.md.
"""

from gateway.compiler import compile_plan_set
from gateway.config import ConfigError
from gateway.decision import Decision, DecisionTable, decide
from gateway.middleware import EntitlementMiddleware
from gateway.planfile import load_plan_set, parse_plan_set
from gateway.plans import PlanSet

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
