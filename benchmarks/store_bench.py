"""Group "store": what a shared quota costs, a Redis-backed quota check beside the in-memory one.

In process and under uvicorn (server CPU per request, as the server group measures it).

Both variants answer the same GET /2/tweets/12 from a third-party key whose plan has a quota (the
baseline's `essential` plan with its limit raised so no rep runs out), in front of the same bare
app, interleaved in one event loop. The Redis variant talks to a real redis-server this group
starts on a free loopback port (and stops), as a fleet worker would: one round trip per request.
Each rep starts with a checked call (200, the plan's grant rule, the x-rate-limit-* headers), so
a variant that answers from its failure policy instead of the store aborts the run.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sys
from pathlib import Path
from tempfile import TemporaryDirectory

from benchmarks.apps import UPSTREAM_BODY, bare_app
from benchmarks.asgi_driver import call_once, http_scope, time_batch
from benchmarks.results import HarnessError, Measurement, set_ratios
from benchmarks.serve import QUOTA_PLANS_VARIABLE, STATE_DIR_VARIABLE, STORE_URL_VARIABLE
from benchmarks.server_bench import Variant, measure
from benchmarks.settings import PLANS, Settings
from benchmarks.stats import Series, round_robin
from gateway.control_plane.fleet.trust import SECRET_VARIABLE
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.request_path.responses import RULE_HEADER
from tests.processes import REDIS_SERVER, RedisServer

GROUP = "store"
METHOD = "GET"
PATH = "/2/tweets/12"
KEY = "gw467-demo-sunrise-bot"  # on the baseline's `essential` plan, which has a quota
RULE = "plan:essential/grant:tweets.*"
QUOTA = "quota = { requests = 900, window_seconds = 900 }"
# Enough for every request of a full run in one window: the figure is the counting, not the 429.
UNLIMITED = "quota = { requests = 1000000000, window_seconds = 900 }"


def _plan_file(directory: Path) -> Path:
    text = (PLANS / "2023-02-baseline.toml").read_text()
    if QUOTA not in text:
        raise HarnessError("the baseline's essential plan no longer has the quota this group raises")
    path = directory / "quota-bench.toml"
    path.write_text(text.replace(QUOTA, UNLIMITED, 1))
    return path


async def _check(name: str, app: EntitlementMiddleware) -> None:
    scope, headers = http_scope(METHOD, PATH, KEY)
    response = await call_once(app, scope, headers)
    answered = dict(response.headers)
    problems = []
    if response.status != 200 or response.body != UPSTREAM_BODY:
        problems.append(
            f"status {response.status} body {response.body[:80]!r}, expected 200 {UPSTREAM_BODY!r}"
        )
    if answered.get(RULE_HEADER, b"").decode() != RULE:
        problems.append(f"rule header {answered.get(RULE_HEADER)!r}, expected {RULE!r}")
    if not re.fullmatch(rb"\d+", answered.get(b"x-rate-limit-remaining", b"")):
        problems.append("no x-rate-limit-remaining header: the quota was not counted")
    if problems:
        raise HarnessError(f"{name} answered {METHOD} {PATH} wrongly: {'; '.join(problems)}")


async def _run(settings: Settings, plans: Path, redis_url: str, state: Path) -> list[Measurement]:
    apps = {
        "store.memory": ("gateway, quota in memory", EntitlementMiddleware(bare_app(), plans)),
        "store.redis": (
            "gateway, quota in Redis (one round trip)",
            EntitlementMiddleware(bare_app(), plans, store=redis_url, state_dir=state),
        ),
    }
    scope, headers = http_scope(METHOD, PATH, KEY)
    series = {name: Series() for name in apps}
    requests = max(1, settings.requests // 4)  # a Redis round trip is ~10x an in-memory count
    try:
        for name, (_, app) in apps.items():
            await _check(name, app)
            await time_batch(app, scope, headers, max(1, requests // 10))
        for rep, name in round_robin(list(apps), settings.reps):
            app = apps[name][1]
            await _check(name, app)
            elapsed = await time_batch(app, scope, headers, requests)
            series[name].add(elapsed, requests)
            print(
                f"  store rep {rep}/{settings.reps} {name}: {elapsed / requests / 1000:.2f} us",
                file=sys.stderr,
            )
    finally:
        for _, app in apps.values():
            await app.deployment.stop()
    measurements = [
        Measurement.timing(name, label, GROUP, "ns/request", series[name], requests_per_rep=requests)
        for name, (label, _) in apps.items()
    ]
    set_ratios(measurements, measurements[0])
    return measurements


SERVER_VARIANTS = (
    Variant("store.server_memory", "uvicorn: gateway, quota in memory", "gateway-quota", RULE, KEY),
    Variant("store.server_redis", "uvicorn: gateway, quota in Redis", "gateway-quota-redis", RULE, KEY),
)


def run(settings: Settings) -> list[Measurement]:
    """Both variants, interleaved, in process and then under uvicorn, against a redis-server of this
    group's own."""
    if REDIS_SERVER is None:
        raise HarnessError("the store group needs Debian's redis-server: apt-get install redis-server")
    print(
        f"store: 2 variants x {settings.reps} reps x {max(1, settings.requests // 4):,} requests",
        file=sys.stderr,
    )
    with TemporaryDirectory(prefix="gw467-bench-store-") as scratch:
        directory = Path(scratch)
        redis = RedisServer(directory)
        redis.start()
        plans = _plan_file(directory)
        # A fleet secret of this run's own, for the fleet in this process and in the servers.
        os.environ.setdefault(SECRET_VARIABLE, secrets.token_hex(16))
        try:
            in_process = asyncio.run(_run(settings, plans, redis.url, directory / "state"))
            os.environ.update(
                {
                    QUOTA_PLANS_VARIABLE: str(plans),
                    STORE_URL_VARIABLE: redis.url,
                    STATE_DIR_VARIABLE: str(directory / "server-state"),
                }
            )
            return in_process + measure(settings, SERVER_VARIANTS, GROUP)
        finally:
            redis.stop()
