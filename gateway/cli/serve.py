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
from urllib.parse import urlsplit

import uvicorn
from uvicorn.config import LOG_LEVELS

from gateway.cli.errors import EXIT_OK, UsageError
from gateway.cli.inputs import PLAN_FILE_HELP, plan_file
from gateway.control_plane.control_api import STATUS_ACCESS
from gateway.control_plane.fleet.trust import fleet_secret
from gateway.control_plane.fleet.worker import default_state_dir
from gateway.core.planfile import load_plan_set
from gateway.fronts.app import (
    ADMIN_TOKEN_VARIABLE,
    CHECK_TOKEN_VARIABLE,
    DECISION_LOG_VARIABLE,
    METRICS_VARIABLE,
    MIN_REQUESTS_VARIABLE,
    PLANS_VARIABLE,
    RULE_HEADER_VARIABLE,
    SLI_VARIABLE,
    STATE_DIR_VARIABLE,
    STATUS_ACCESS_VARIABLE,
    STATUS_TOKEN_VARIABLE,
    STORE_FAILURE_VARIABLE,
    STORE_VARIABLE,
    TRUSTED_PROXIES_VARIABLE,
    UPSTREAM_VARIABLE,
    build_gateway_app,
)
from gateway.fronts.middleware import RULE_HEADER_CHOICES
from gateway.fronts.proxy import UpstreamError, parse_trusted_proxies, parse_upstream
from gateway.fronts.trailers import http_protocol
from gateway.fronts.workers import SplitAdminApi, refuse_split_admin_api
from gateway.request_path.decision_log import send_logs_to
from gateway.request_path.metrics import MULTIPROC_DIR_VARIABLE
from gateway.request_path.runtime import LOCAL, STORE_FAILURE_POLICIES
from gateway.request_path.slo import DEFAULT_MIN_REQUESTS, SLI_NAMES
from gateway.stores.private_files import TrustError, private_directory
from gateway.stores.redis_store import PASSWORD_FILE_VARIABLE, PASSWORD_VARIABLE, redact, store_password

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
        "--sli",
        choices=SLI_NAMES,
        default="first-party-denials",
        help="what counts as a failed request for /_gw467/status and the alert",
    )
    serve.add_argument("--no-metrics", action="store_true", help="do not serve /_gw467/metrics")
    serve.add_argument(
        "--min-requests",
        type=int,
        default=DEFAULT_MIN_REQUESTS,
        metavar="N",
        help="requests a client class needs in a window before the status page can call it degraded "
        f"or outage, or the alert page (default: {DEFAULT_MIN_REQUESTS})",
    )
    serve.add_argument(
        "--status-access",
        choices=STATUS_ACCESS,
        default="public",
        help=f"who may read /_gw467/status and /metrics: anyone, a bearer token ({STATUS_TOKEN_VARIABLE}, "
        f"else {ADMIN_TOKEN_VARIABLE}) or loopback peers only (default: public)",
    )
    serve.add_argument(
        "--rule-header",
        choices=RULE_HEADER_CHOICES,
        default="all",
        help="send x-gw467-rule on every response, or on the gateway's refusals only (default: all)",
    )
    serve.add_argument(
        "--http",
        choices=HTTP_IMPLEMENTATIONS,
        default="auto",
        help="uvicorn's HTTP implementation (default: auto, httptools when installed); the gateway "
        "decides alike under both (see the README's Paths section for the one difference, '#'), "
        "on the request's head alone (chunk trailers are dropped)",
    )
    serve.add_argument(
        "--upstream",
        metavar="URL",
        type=upstream_url,
        help="proxy allowed requests to this HTTP service (http://127.0.0.1:9000), not the demo upstream",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        type=trusted_proxy,
        help="with --upstream: a load balancer (address or network, repeatable) whose X-Forwarded-* "
        "are kept; anyone else's X-Forwarded-*, Forwarded and X-Real-IP are replaced by the gateway's",
    )
    serve.add_argument(
        "--no-decision-log",
        action="store_true",
        help="do not write a JSON line per request to stderr (logger gw467.decisions)",
    )
    serve.add_argument(
        "--store",
        default="memory",
        metavar="URL",
        type=store_url,
        help="where quotas and the stage live: memory (this process, the default) or redis://HOST:PORT/DB "
        "(rediss:// for TLS), shared by every worker and instance (fleet mode; the admin API then works "
        f"with --workers N); the password from {PASSWORD_FILE_VARIABLE}, never the URL",
    )
    serve.add_argument(
        "--store-failure",
        choices=STORE_FAILURE_POLICIES,
        default=LOCAL,
        help="while a shared store is down: count quotas in each worker (local, the default), admit "
        "uncounted (open) or refuse with 503 (closed); never 467 or 429 because of the outage",
    )
    serve.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where each fleet worker keeps its last good version, to start from when the store "
        "is down (default: $XDG_STATE_HOME/gw467 or ~/.local/state/gw467)",
    )
    serve.set_defaults(handler=run)


def store_url(text: str) -> str:
    if text == "memory":
        return text
    parts = urlsplit(text)
    shown = redact(text)
    if parts.password is not None:
        # A command line is readable by every user (ps): the password goes in a file.
        raise argparse.ArgumentTypeError(
            f"{shown}: no password in the URL; put it in a file only you can read and set "
            f"{PASSWORD_FILE_VARIABLE} to its path (or set {PASSWORD_VARIABLE})"
        )
    problem = f"{shown!r} is not memory or a redis://HOST:PORT/DB URL"
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None
    database = parts.path.strip("/")
    if parts.scheme not in ("redis", "rediss", "unix") or (database and not database.isdigit()):
        raise argparse.ArgumentTypeError(problem)
    return text


def upstream_url(text: str) -> str:
    try:
        parse_upstream(text)
    except UpstreamError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def trusted_proxy(text: str) -> str:
    try:
        parse_trusted_proxies([text])
    except UpstreamError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def run(args: argparse.Namespace) -> int:
    """Run uvicorn; the admin API is on only when GW467_ADMIN_TOKEN is set in the environment,
    /_gw467/check answers non-loopback callers only with GW467_CHECK_TOKEN."""
    if not 0 < args.port < 65536:
        raise UsageError(f"gw467 serve: error: --port {args.port} is not a TCP port")
    if args.workers < 1:
        raise UsageError(f"gw467 serve: error: --workers {args.workers} must be at least 1")
    if args.min_requests < 1:
        raise UsageError(f"gw467 serve: error: --min-requests {args.min_requests} must be at least 1")
    admin_token = os.environ.get(ADMIN_TOKEN_VARIABLE) or None
    status_token = os.environ.get(STATUS_TOKEN_VARIABLE) or None
    if args.status_access == "token" and not (status_token or admin_token):
        raise UsageError(
            f"gw467 serve: error: --status-access token needs {STATUS_TOKEN_VARIABLE} or "
            f"{ADMIN_TOKEN_VARIABLE} set in the environment"
        )
    try:
        # Refused here, in the parent, with its exit code; the workers would refuse too.
        several = f"--workers is {args.workers}" if args.workers > 1 else None
        refuse_split_admin_api(admin_token, args.store != "memory", several)
    except SplitAdminApi as error:
        raise UsageError(f"gw467 serve: error: {error}") from None
    if args.store != "memory":
        # The fleet's secret and private directory, checked once here: each worker checks again.
        try:
            fleet_secret()
            store_password()
            private_directory(Path(args.state_dir) if args.state_dir else default_state_dir())
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
    send_logs_to(sys.stderr, decisions=not args.no_decision_log)
    if args.workers == 1:
        app = build_gateway_app(
            args.plans,
            sli=args.sli,
            metrics=not args.no_metrics,
            admin_token=admin_token,
            min_requests=args.min_requests,
            status_access=args.status_access,
            status_token=status_token,
            rule_header=args.rule_header,
            check_token=os.environ.get(CHECK_TOKEN_VARIABLE) or None,
            upstream=args.upstream,
            store=args.store,
            store_failure=args.store_failure,
            state_dir=args.state_dir,
            trusted_proxies=args.trusted_proxy,
        )
        uvicorn.run(
            app, host=args.host, port=args.port, log_level=args.log_level, http=protocol, proxy_headers=False
        )
        return EXIT_OK
    # Several workers: each imports the factory and reads its settings from the environment.
    # Validate the file here first, so a bad file is one line now rather than N tracebacks.
    load_plan_set(args.plans)
    os.environ[PLANS_VARIABLE] = str(Path(args.plans).resolve())
    os.environ[SLI_VARIABLE] = args.sli
    os.environ[METRICS_VARIABLE] = "0" if args.no_metrics else "1"
    os.environ[MIN_REQUESTS_VARIABLE] = str(args.min_requests)
    os.environ[STATUS_ACCESS_VARIABLE] = args.status_access
    os.environ[RULE_HEADER_VARIABLE] = args.rule_header
    os.environ[DECISION_LOG_VARIABLE] = "0" if args.no_decision_log else "1"
    os.environ[STORE_VARIABLE] = args.store
    os.environ[STORE_FAILURE_VARIABLE] = args.store_failure
    if args.state_dir:
        os.environ[STATE_DIR_VARIABLE] = str(Path(args.state_dir).resolve())
    if args.upstream:
        os.environ[UPSTREAM_VARIABLE] = args.upstream
    if args.trusted_proxy:
        os.environ[TRUSTED_PROXIES_VARIABLE] = ",".join(args.trusted_proxy)
    if not args.no_metrics and not os.environ.get(MULTIPROC_DIR_VARIABLE):
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
