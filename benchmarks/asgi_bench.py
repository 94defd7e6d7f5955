"""Group 1: in-process time per request for the bare app and five middleware variants, round-robin.

Every variant answers the same GET /2/tweets/12 from a first-party key; each rep starts with a
checked call, so a variant that answers the wrong status aborts the run instead of being timed.
The variant with metrics on must also have counted every request it was timed on.
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
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.request_path.responses import NOT_ENTITLED_BODY, RULE_HEADER

METHOD = "GET"
PATH = "/2/tweets/12"
KEY = "gw467-demo-web"
GROUP = "asgi"
# The BaseHTTPMiddleware control is timed on this fraction of the requests per rep (it is 15x slower).
CONTROL_SHARE = 4


@dataclass(frozen=True)
class Variant:
    """An app to time, and what its response must be for the timing to mean what it says."""

    name: str
    label: str
    build: Callable[[], ASGIApp]
    status: int
    body: bytes
    rule: str | None = None
    # The slow control is timed on a share of the requests per rep; per-request figures stay comparable.
    batch_share: int = 1


VARIANTS = (
    Variant("asgi.bare", "bare Starlette app", bare_app, 200, UPSTREAM_BODY),
    Variant(
        "asgi.noop", "no-op pure-ASGI middleware", lambda: NoopMiddleware(bare_app()), 200, UPSTREAM_BODY
    ),
    Variant(
        "asgi.gateway_allowed",
        "EntitlementMiddleware, 200, metrics off",
        lambda: EntitlementMiddleware(bare_app(), ALLOWING_PLANS),
        200,
        UPSTREAM_BODY,
        "exempt:first_party",
    ),
    Variant(
        "asgi.gateway_metrics",
        "EntitlementMiddleware, 200, metrics on",
        lambda: EntitlementMiddleware(bare_app(), ALLOWING_PLANS, metrics=True),
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
        batch_share=CONTROL_SHARE,
    ),
)
METRICS_PATH = "/_gw467/metrics"
METRICS_SERIES = "gw467_requests_total{"
# The series the timed request lands in, whatever order the exposition gives its labels.
METRICS_LABELS = ('client_class="web"', 'status="200"', 'rule="exempt:first_party"')


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


async def _requests_counted(app: ASGIApp) -> float:
    """The gateway's own count of allowed first-party requests, read from its metrics endpoint."""
    scope, headers = http_scope(METHOD, METRICS_PATH, KEY)
    response = await call_once(app, scope, headers)
    if response.status != 200:
        raise HarnessError(f"{METRICS_PATH} answered {response.status}: are metrics on?")
    counted = 0.0
    for line in response.body.decode().splitlines():
        labels, _, value = line.removeprefix(METRICS_SERIES).rpartition("} ")
        if line.startswith(METRICS_SERIES) and all(label in labels.split(",") for label in METRICS_LABELS):
            counted += float(value)
    return counted


async def _run(settings: Settings) -> list[Measurement]:
    scope, headers = http_scope(METHOD, PATH, KEY)
    apps = {variant.name: variant.build() for variant in VARIANTS}
    series = {variant.name: Series() for variant in VARIANTS}
    batch = {variant.name: max(1, settings.requests // variant.batch_share) for variant in VARIANTS}
    calls = dict.fromkeys(apps, 0)
    observed: dict[str, int] = {}
    for variant in VARIANTS:
        app = apps[variant.name]
        observed[variant.name] = await _check(variant, app, scope, headers)
        warmup = max(1, batch[variant.name] // 10)
        await time_batch(app, scope, headers, warmup)
        calls[variant.name] += 1 + warmup
    for rep, variant in round_robin(VARIANTS, settings.reps):
        app, requests = apps[variant.name], batch[variant.name]
        await _check(variant, app, scope, headers)
        elapsed = await time_batch(app, scope, headers, requests)
        calls[variant.name] += 1 + requests
        series[variant.name].add(elapsed, requests)
        print(
            f"  asgi rep {rep}/{settings.reps} {variant.name}: {elapsed / requests / 1000:.2f} us",
            file=sys.stderr,
        )
    metered = "asgi.gateway_metrics"
    counted = await _requests_counted(apps[metered])
    if counted != calls[metered]:
        raise HarnessError(
            f"{metered}: the gateway's metrics counted {counted:,.0f} allowed requests, "
            f"{calls[metered]:,} were sent; metrics did not see every timed request"
        )
    measurements = [
        Measurement.timing(
            variant.name,
            variant.label,
            GROUP,
            "ns/request",
            series[variant.name],
            expected_status=variant.status,
            observed_status=observed[variant.name],
            requests_per_rep=batch[variant.name],
            request=f"{METHOD} {PATH}",
            **({"metrics_counted": counted} if variant.name == metered else {}),
        )
        for variant in VARIANTS
    ]
    set_ratios(measurements, measurements[0])
    return measurements


def run(settings: Settings) -> list[Measurement]:
    """All ASGI variants, interleaved, in one event loop."""
    print(
        f"asgi: {len(VARIANTS)} variants x {settings.reps} reps x {settings.requests:,} requests "
        f"(the BaseHTTPMiddleware control: 1/{CONTROL_SHARE} of them)",
        file=sys.stderr,
    )
    return asyncio.run(_run(settings))
