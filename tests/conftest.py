"""Shared fixtures and the Hypothesis profiles.

Profiles: `ci` (CI=true: 60 derandomized examples, 15 stateful steps, so CI is fast
and repeatable), `dev` (the default, `make test`: 100 random examples, 15 stateful steps,
so a run explores new cases and stays within minutes), `deep` (`make test-deep`: 1,000
examples, 50 stateful steps). HYPOTHESIS_PROFILE overrides the choice. Tests marked
`deep` (heavy settings of their own) are deselected unless asked for (`-m deep`, `make test-deep`).
Modules with a test marked `slow` are collected first, so pytest-xdist starts them first.

The suite runs against the Python sources (`make test` sets GW467_PURE_PYTHON=1) or
against the mypyc-compiled hot path (`make test-compiled` sets GW467_EXPECT_COMPILED=1,
and the session refuses to start unless every hot-path module really is compiled);
a compiled module built from another version of its source stops the session, since it
would shadow it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import gateway.fronts.middleware
from gateway.control_plane.fleet.trust import SECRET_VARIABLE
from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable
from gateway.core.planfile import load_plan_set
from gateway.hot_path import HOT_PATH, pure_python_forced, running_compiled, stale_builds

# pytest-xdist's workers run with COLUMNS=80 and LINES=24 in their environment, which the gw467
# console honours as a user's choice (`COLUMNS=100 gw467 ... | less`): a worker's commands would
# print at 80 columns where the suite run without workers prints at the piped width. Tests that
# want a width set it themselves (tests/test_narrow_terminals.py).
if os.environ.get("PYTEST_XDIST_WORKER"):
    for variable in ("COLUMNS", "LINES"):
        os.environ.pop(variable, None)

# Every fleet the suite starts (in process, or gw467 serve and gunicorn, which inherit the
# environment) shares this secret; tests of a missing or wrong secret set their own.
os.environ.setdefault(SECRET_VARIABLE, "a-fleet-secret-for-the-test-suite-only")

settings.register_profile(
    "ci",
    max_examples=60,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, stateful_step_count=15, deadline=None)
settings.register_profile(
    "deep",
    max_examples=1000,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Test the implementation that was asked for, and never a stale build of it."""
    assert gateway.fronts.middleware  # imported above, with the whole hot path
    if os.environ.get("GW467_EXPECT_COMPILED") == "1":
        missing = sorted(set(HOT_PATH) - set(running_compiled()))
        if missing or pure_python_forced():
            raise pytest.UsageError(f"GW467_EXPECT_COMPILED=1 but not compiled: {missing} (run make compile)")
    elif not pure_python_forced() and (stale := stale_builds()):
        raise pytest.UsageError(
            f"compiled from other versions of their sources: {stale} (make compile, or make pure)"
        )


_default = "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the modules with a `slow` test (full replays, servers, load tests) first, in their order.

    `make test` hands whole modules to workers (--dist loadfile) in collection order (pyproject:
    --no-loadscope-reorder; xdist would otherwise start the modules with the most tests first,
    which leaves the few-test full replays for last, one worker busy while the others idle).
    Started first, the long modules run side by side and the many quick ones fill the end.
    """
    slow_modules = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow_modules)


ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "plans"
BASELINE = PLANS / "2023-02-baseline.toml"
BILLING = PLANS / "2023-03-06-billing.toml"
FIXED = PLANS / "2023-03-06-billing-fixed.toml"

DEMO_KEYS = {
    "web": "gw467-demo-web",
    "ios": "gw467-demo-ios",
    "android": "gw467-demo-android",
    "tweetdeck": "gw467-demo-tweetdeck",
    "tco": "gw467-demo-tco",
    "media": "gw467-demo-media",
    "login": "gw467-demo-login",
    "sunrise-bot": "gw467-demo-sunrise-bot",
    "pollster-analytics": "gw467-demo-pollster-analytics",
    "newsdesk-pro": "gw467-demo-newsdesk-pro",
    "legacy-reader": "gw467-demo-legacy-reader",
}


@pytest.fixture(scope="session")
def baseline_table() -> DecisionTable:
    return compile_plan_set(load_plan_set(BASELINE))


@pytest.fixture(scope="session")
def billing_table() -> DecisionTable:
    return compile_plan_set(load_plan_set(BILLING))


@pytest.fixture(scope="session")
def fixed_table() -> DecisionTable:
    return compile_plan_set(load_plan_set(FIXED))


def change_now(operation: Coroutine[Any, Any, None]) -> None:
    """Run one deployment operation (`app.deployment.push(...)`) to its end, from a test that runs
    no event loop of its own."""
    asyncio.run(operation)
