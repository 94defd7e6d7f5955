"""`gw467 serve`: the gateway in front of the demo upstream or `--upstream URL` under uvicorn.

One worker or several; decision logs on stderr unless `--no-decision-log`; SIGHUP re-reads
the plan file (one worker: that worker's table; several: uvicorn restarts the workers).
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import LOG_LEVELS

from gateway.cli.errors import EXIT_OK, UsageError
from gateway.cli.inputs import PLAN_FILE_HELP, plan_file
from gateway.control_plane.fleet.trust import fleet_secret
from gateway.control_plane.fleet.worker import default_state_dir
from gateway.core.planfile import load_plan_set
from gateway.fronts.app import build_gateway_app
from gateway.fronts.settings import GatewaySettings, SettingError, add_options
from gateway.fronts.trailers import http_protocol
from gateway.fronts.workers import SplitAdminApi, refuse_split_admin_api
from gateway.request_path.decision_log import send_logs_to
from gateway.request_path.metrics import MULTIPROC_DIR_VARIABLE
from gateway.stores.private_files import TrustError, private_directory
from gateway.stores.redis_store import store_password

HTTP_IMPLEMENTATIONS = ("auto", "h11", "httptools")


def register(commands: argparse._SubParsersAction[Any]) -> None:
    serve = commands.add_parser(
        "serve", help="run the gateway in front of the demo upstream or an HTTP service"
    )
    serve.add_argument("--plans", required=True, metavar="FILE", type=plan_file, help=PLAN_FILE_HELP)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8467, help="port to bind (default: 8467)")
    serve.add_argument(
        "--log-level",
        choices=tuple(LOG_LEVELS),
        default="warning",
        help="uvicorn log level (default: warning)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (default: 1); metrics are shared through PROMETHEUS_MULTIPROC_DIR",
    )
    serve.add_argument(
        "--http",
        choices=HTTP_IMPLEMENTATIONS,
        default="auto",
        help="uvicorn's HTTP implementation (default: auto, httptools when installed); the gateway "
        "decides alike under both (see the README's Paths section for the one difference, '#'), "
        "on the request's head alone (chunk trailers are dropped)",
    )
    # The gateway's own settings: option, default, check and help from gateway.fronts.settings.
    add_options(serve)
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run uvicorn; the admin API is on only when GW467_ADMIN_TOKEN is set in the environment,
    /_gw467/check answers non-loopback callers only with GW467_CHECK_TOKEN."""
    if not 0 < args.port < 65536:
        raise UsageError(f"gw467 serve: error: --port {args.port} is not a TCP port")
    if args.workers < 1:
        raise UsageError(f"gw467 serve: error: --workers {args.workers} must be at least 1")
    try:
        # The tokens (and the SLO) come from the environment, never argv (ps shows argv to all).
        settings = GatewaySettings.from_arguments(args, os.environ)
    except SettingError as error:
        raise UsageError(f"gw467 serve: error: {error}") from None
    try:
        # Refused here, in the parent, with its exit code; the workers would refuse too.
        several = f"--workers is {args.workers}" if args.workers > 1 else None
        refuse_split_admin_api(settings.admin_token, settings.shared_store, several)
    except SplitAdminApi as error:
        raise UsageError(f"gw467 serve: error: {error}") from None
    if settings.shared_store:
        # The fleet's secret and private directory, checked once here: each worker checks again.
        try:
            fleet_secret()
            store_password()
            private_directory(Path(settings.state_dir) if settings.state_dir else default_state_dir())
        except TrustError as error:
            raise UsageError(f"gw467 serve: error: {error}") from None
    _check_address_free(args.host, args.port)
    try:
        # httptools without chunk trailers among the headers (see gateway.fronts.trailers).
        protocol = http_protocol(args.http)
    except ValueError as error:
        raise UsageError(f"gw467 serve: error: {error}") from None
    _announce_when_listening(args.host, args.port)
    # proxy_headers=False: the client address is the TCP peer's, never a header's. /_gw467/check
    # trusts loopback peers, and --upstream appends the peer to X-Forwarded-For itself.
    send_logs_to(sys.stderr, decisions=settings.decision_log)
    if args.workers == 1:
        app = build_gateway_app(settings)
        uvicorn.run(
            app, host=args.host, port=args.port, log_level=args.log_level, http=protocol, proxy_headers=False
        )
        return EXIT_OK
    # Several workers: each imports the factory and reads the same settings from the environment.
    # Validate the file here first, so a bad file is one line now rather than N tracebacks.
    load_plan_set(args.plans)
    os.environ.update(settings.to_environment())
    if settings.metrics and not os.environ.get(MULTIPROC_DIR_VARIABLE):
        os.environ[MULTIPROC_DIR_VARIABLE] = tempfile.mkdtemp(prefix="gw467-metrics-")
    uvicorn.run(
        "gateway.fronts.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        http=protocol,
        proxy_headers=False,
    )
    return EXIT_OK


def _announce_when_listening(host: str, port: int) -> None:
    """Print `listening on URL` on stdout once the address accepts a connection, from a thread.

    uvicorn says where it listens only at --log-level info, among its other lines; and with several
    workers it is the parent that binds the socket. Connecting is what a client would do, so the
    line never comes before the server can be reached, whatever the number of workers.
    """
    # A wildcard address is reached through the loopback of its family.
    reachable = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def announce() -> None:
        while True:
            try:
                with socket.create_connection((reachable, port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        print(f"gw467: listening on {url} (Ctrl-C to stop)", flush=True)

    threading.Thread(target=announce, name="gw467-announce", daemon=True).start()


def _check_address_free(host: str, port: int) -> None:
    """Bind the address as uvicorn will, and let it go: a busy port is one line here, not uvicorn's exit 3.

    (Another process can still take the port in the moment between; uvicorn then reports it.)
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"gw467 serve: error: {host}:{port} is already in use (another server?); "
                    "stop it or choose another --port"
                ) from None
            raise UsageError(
                f"gw467 serve: error: cannot listen on {host}:{port}: {error.strerror}"
            ) from None
