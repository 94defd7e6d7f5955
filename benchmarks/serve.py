"""`python -m benchmarks.serve APP --port N [--cpu C] [--workers W]`: a benchmark app under uvicorn.

httptools and uvloop, no access log, on loopback: the server the uvicorn and workers groups measure,
run as a subprocess so that its CPU time can be read from /proc. `--cpu` pins it to one core first
(one worker only); `--workers` runs uvicorn's supervisor with W worker processes, unpinned.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from benchmarks.apps import bare_app
from benchmarks.settings import ALLOWING_PLANS
from gateway.fronts.middleware import EntitlementMiddleware

HOST = "127.0.0.1"
# Set by the store group (`benchmarks.store_bench`) for the two quota apps.
QUOTA_PLANS_VARIABLE = "GW467_BENCH_QUOTA_PLANS"
STORE_URL_VARIABLE = "GW467_BENCH_STORE"
STATE_DIR_VARIABLE = "GW467_BENCH_STATE_DIR"


def gateway_app() -> ASGIApp:
    return EntitlementMiddleware(bare_app(), ALLOWING_PLANS)


def gateway_metrics_app() -> ASGIApp:
    return EntitlementMiddleware(bare_app(), ALLOWING_PLANS, metrics=True)


def gateway_quota_app() -> ASGIApp:
    """The gateway with quotas counted in this process (the store group's plan file, from the env)."""
    return EntitlementMiddleware(bare_app(), os.environ[QUOTA_PLANS_VARIABLE])


def gateway_quota_redis_app() -> ASGIApp:
    """The same with quotas counted in the Redis the store group started (its URL from the env)."""
    return EntitlementMiddleware(
        bare_app(),
        os.environ[QUOTA_PLANS_VARIABLE],
        store=os.environ[STORE_URL_VARIABLE],
        state_dir=os.environ[STATE_DIR_VARIABLE],
    )


# Module-level factories: uvicorn's worker processes import the app by name.
APPS: dict[str, Callable[[], ASGIApp]] = {
    "bare": bare_app,
    "gateway": gateway_app,
    "gateway-metrics": gateway_metrics_app,
    "gateway-quota": gateway_quota_app,
    "gateway-quota-redis": gateway_quota_redis_app,
}


def _import_string(factory: Callable[[], ASGIApp]) -> str:
    """`module:name` of a factory, as uvicorn's worker processes import it."""
    module = "benchmarks.serve" if factory.__module__ == "__main__" else factory.__module__
    return f"{module}:{factory.__name__}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__)
    parser.add_argument("app", choices=sorted(APPS), help="bare Starlette app, or it behind the gateway")
    parser.add_argument("--port", type=int, required=True, help=f"port on {HOST}")
    parser.add_argument("--cpu", type=int, help="pin the server to this CPU (default: not pinned)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        if args.workers != 1:
            parser.error("--cpu pins one worker; leave it out with --workers")
        os.sched_setaffinity(0, {args.cpu})
    factory = APPS[args.app]
    several = args.workers > 1
    uvicorn.run(
        _import_string(factory) if several else factory(),
        factory=several,
        workers=args.workers,
        host=HOST,
        port=args.port,
        http="httptools",
        loop="uvloop",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
