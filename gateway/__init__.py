"""gw467: an API-gateway entitlement simulator of Twitter's error-467 outage (2023-03-06).

Put `EntitlementMiddleware` in front of any ASGI app with a plan file; see README.md.
"""

from importlib.metadata import PackageNotFoundError, version

# First: under GW467_PURE_PYTHON=1 it makes every module below load from its source.
from gateway import hot_path as hot_path
from gateway.core.compiler import compile_plan_set
from gateway.core.config import ConfigError
from gateway.core.decision import Decision, DecisionTable, decide
from gateway.core.planfile import load_plan_set, parse_plan_set
from gateway.core.plans import PlanSet
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.fronts.settings import GatewaySettings

try:
    __version__ = version("gw467")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "ConfigError",
    "Decision",
    "DecisionTable",
    "EntitlementMiddleware",
    "GatewaySettings",
    "PlanSet",
    "compile_plan_set",
    "decide",
    "load_plan_set",
    "parse_plan_set",
]
