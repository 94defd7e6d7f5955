"""Group 1: in-process time per request for the bare app and four middleware variants, round-robin.

Every variant answers the same GET /2/tweets/12 from a first-party key; each rep starts with a
checked call, so a variant that answers the wrong status aborts the run instead of being timed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp

from benchmarks.apps import UPSTREAM_BODY, NoopMiddleware, bare_app
from benchmarks.asgi_driver import call_once, http_scope, time_batch
from benchmarks.basehttp_gateway import BaseHTTPGateway
from benchmarks.results import HarnessError, Measurement, set_ratios
from benchmarks.settings import ALLOWING_PLANS, DENYING_PLANS, Settings
from benchmarks.stats import Series, round_robin
from gateway.middleware import EntitlementMiddleware
from gateway.responses import NOT_ENTITLED_BODY, RULE_HEADER

METHOD = "GET"
PATH = "/2/tweets/12"
KEY = "gw467-demo-web"
GROUP = "asgi"


@dataclass(frozen=True)
class Variant:
    """An app to time, and what its response must be for the timing to mean what it says."""

    name: str
    label: str
    build: Callable[[], ASGIApp]
    status: int
    body: bytes
    rule: str | None = None


VARIANTS = (
    Variant("asgi.bare", "bare Starlette app", bare_app, 200, UPSTREAM_BODY),
    Variant(
        "asgi.noop", "no-op pure-ASGI middleware", lambda: NoopMiddleware(bare_app()), 200, UPSTREAM_BODY
    ),
    Variant(
        "asgi.gateway_allowed",
        "EntitlementMiddleware, 200 (fixed plan)",
        lambda: EntitlementMiddleware(bare_app(), ALLOWING_PLANS),
        200,
        UPSTREAM_BODY,
        "exempt:first_party",
    ),
    Variant(
        "asgi.gateway_467",
        "EntitlementMiddleware, 467 (billing plan)",
        lambda: EntitlementMiddleware(bare_app(), DENYING_PLANS),
        467,
        NOT_ENTITLED_BODY,
        "plan:free/deny",
    ),
    Variant(
        "asgi.basehttp_gateway",
        "control: gateway as BaseHTTPMiddleware",
        lambda: BaseHTTPGateway(bare_app(), ALLOWING_PLANS),
        200,
        UPSTREAM_BODY,
        "exempt:first_party",
    ),
)


async def _check(
    variant: Variant, app: ASGIApp, scope: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> int:
    response = await call_once(app, scope, headers)
    rule = dict(response.headers).get(RULE_HEADER, b"").decode() or None
    problems = []
    if response.status != variant.status:
        problems.append(f"status {response.status}, expected {variant.status}")
    if response.body != variant.body:
        problems.append(f"body {response.body[:80]!r}, expected {variant.body[:80]!r}")
    if variant.rule is not None and rule != variant.rule:
        problems.append(f"rule header {rule!r}, expected {variant.rule!r}")
    if problems:
        raise HarnessError(
            f"variant {variant.name!r} ({variant.label}) answered {METHOD} {PATH} wrongly: "
            + "; ".join(problems)
            + " -- refusing to time the wrong code path"
        )
    assert response.status is not None
    return response.status


async def _run(settings: Settings) -> list[Measurement]:
    scope, headers = http_scope(METHOD, PATH, KEY)
    apps = {variant.name: variant.build() for variant in VARIANTS}
    series = {variant.name: Series() for variant in VARIANTS}
    observed: dict[str, int] = {}
    warmup = max(1, settings.requests // 10)
    for variant in VARIANTS:
        app = apps[variant.name]
        observed[variant.name] = await _check(variant, app, scope, headers)
        await time_batch(app, scope, headers, warmup)
    for rep, variant in round_robin(VARIANTS, settings.reps):
        app = apps[variant.name]
        await _check(variant, app, scope, headers)
        elapsed = await time_batch(app, scope, headers, settings.requests)
        series[variant.name].add(elapsed, settings.requests)
        per_request_us = elapsed / settings.requests / 1000
        print(f"  asgi rep {rep}/{settings.reps} {variant.name}: {per_request_us:.2f} us", file=sys.stderr)
    measurements = [
        Measurement.timing(
            variant.name,
            variant.label,
            GROUP,
            "ns/request",
            series[variant.name],
            expected_status=variant.status,
            observed_status=observed[variant.name],
            requests_per_rep=settings.requests,
            request=f"{METHOD} {PATH}",
        )
        for variant in VARIANTS
    ]
    set_ratios(measurements, measurements[0])
    return measurements


def run(settings: Settings) -> list[Measurement]:
    """All ASGI variants, interleaved, in one event loop."""
    print(
        f"asgi: {len(VARIANTS)} variants x {settings.reps} reps x {settings.requests} requests",
        file=sys.stderr,
    )
    return asyncio.run(_run(settings))
