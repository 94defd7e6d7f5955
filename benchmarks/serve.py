"""`python -m benchmarks.serve APP --port N [--cpu C]`: one of the benchmark apps under uvicorn on loopback.

httptools and uvloop, one worker, no access log: the server the uvicorn group measures, run as a
subprocess so that its CPU time can be read from /proc. `--cpu` pins it to one core first.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from benchmarks.apps import bare_app
from benchmarks.settings import ALLOWING_PLANS
from gateway.serving.middleware import EntitlementMiddleware

HOST = "127.0.0.1"

APPS: dict[str, Callable[[], ASGIApp]] = {
    "bare": bare_app,
    "gateway": lambda: EntitlementMiddleware(bare_app(), ALLOWING_PLANS),
    "gateway-metrics": lambda: EntitlementMiddleware(bare_app(), ALLOWING_PLANS, metrics=True),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__)
    parser.add_argument("app", choices=sorted(APPS), help="bare Starlette app, or it behind the gateway")
    parser.add_argument("--port", type=int, required=True, help=f"port on {HOST}")
    parser.add_argument("--cpu", type=int, help="pin the server to this CPU (default: not pinned)")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    uvicorn.run(
        APPS[args.app](),
        host=HOST,
        port=args.port,
        http="httptools",
        loop="uvloop",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
