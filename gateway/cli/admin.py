"""`gw467 admin`: the admin API of a running gateway from the command line (push, shadow, canary,
promote, rollback, status, deployment, dump), one line on any error.

Exit codes: 0 done; 1 the gateway refused the operation in its current stage (409: nothing to
promote, a class changing sides) or could not be reached; 2 bad input (an option, a plan file,
a missing token variable, a wrong token, a request the gateway called bad).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import httpx

from gateway.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from gateway.cli.inputs import PLAN_FILE_HELP, plan_file
from gateway.cli.output import output_path, write_text
from gateway.control_plane.control_api import ADMIN_PREFIX
from gateway.core.config import read_text
from gateway.core.planfile import parse_plan_set
from gateway.fronts.settings import ADMIN_TOKEN_VARIABLE
from gateway.request_path.canary import UNITS
from gateway.request_path.stage import CANARY, DIRECT, SHADOW

PROG = "gw467 admin"
TIMEOUT = 10.0
STATUS_CONFLICT = 409


def register(commands: argparse._SubParsersAction[Any]) -> None:
    admin = commands.add_parser("admin", help="drive a running gateway's admin API")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", required=True, help="the gateway, e.g. http://127.0.0.1:8467")
    common.add_argument(
        "--token-env",
        default=ADMIN_TOKEN_VARIABLE,
        metavar="VAR",
        help=f"environment variable holding the admin token (default: {ADMIN_TOKEN_VARIABLE})",
    )
    actions = admin.add_subparsers(dest="action", metavar="ACTION", required=True)
    for mode, text in (
        (DIRECT, "put a plan file in force at once"),
        (SHADOW, "evaluate a plan file beside the active one, enforcing nothing"),
        (CANARY, "enforce a plan file for a slice of requests drawn in every client class"),
    ):
        name = "push" if mode == DIRECT else mode
        push = actions.add_parser(name, parents=[common], help=text)
        push.add_argument("plans", metavar="FILE", type=plan_file, help=PLAN_FILE_HELP)
        if mode == CANARY:
            push.add_argument("--fraction", type=float, default=0.1, help="share of the slice (default: 0.1)")
            push.add_argument(
                "--unit",
                choices=UNITS,
                default=UNITS[0],
                help="what is sliced: requests, in every client class",
            )
        push.set_defaults(mode=mode)
    for name, text in (
        ("promote", "make the candidate the active table"),
        ("rollback", "drop the candidate, or restore the table the last push replaced"),
        ("status", "the status document (/_gw467/status)"),
        ("deployment", "the active table, candidate, history and recent events"),
    ):
        actions.add_parser(name, parents=[common], help=text)
    dump = actions.add_parser("dump", parents=[common], help="write the plan file of the table in force")
    dump.add_argument("--output", "-o", type=output_path, metavar="FILE", help="write here (default: stdout)")
    dump.add_argument("--candidate", action="store_true", help="the candidate's plan file instead")
    admin.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    action: str = args.action
    url = args.url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"{PROG}: error: --url {args.url!r} is not an http:// or https:// URL")
    headers = {}
    token = os.environ.get(args.token_env)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    elif action != "status":
        raise UsageError(f"{PROG}: error: ${args.token_env} is not set (it holds the admin token)")
    if action in ("push", SHADOW, CANARY):
        text = read_text(args.plans)
        parse_plan_set(text, args.plans)  # a bad file is one line naming it, before anything is sent
        query: dict[str, str] = {"mode": args.mode}
        if args.mode == CANARY:
            query |= {"fraction": str(args.fraction), "unit": args.unit}
        request = ("POST", f"{ADMIN_PREFIX}plans", query, text.encode())
    elif action in ("promote", "rollback"):
        request = ("POST", f"{ADMIN_PREFIX}{action}", {}, b"")
    elif action == "status":
        request = ("GET", "/_gw467/status", {}, b"")
        headers["Accept"] = "application/json"
    elif action == "deployment":
        request = ("GET", f"{ADMIN_PREFIX}deployment", {}, b"")
    else:
        which = "candidate" if args.candidate else "active"
        request = ("GET", f"{ADMIN_PREFIX}plans/{which}", {}, b"")
    method, path, params, body = request
    try:
        response = httpx.request(
            method, url + path, params=params, content=body, headers=headers, timeout=TIMEOUT, trust_env=False
        )
    except httpx.HTTPError as error:
        print(f"{PROG}: error: cannot reach {url}: {error or type(error).__name__}", file=sys.stderr)
        return EXIT_FAILED
    if response.status_code >= 400:
        print(f"{PROG}: error: {action}: {_message(response)} (HTTP {response.status_code})", file=sys.stderr)
        return EXIT_FAILED if response.status_code == STATUS_CONFLICT else EXIT_USAGE
    if action == "dump":
        if args.output:
            write_text(args.output, response.text)
        else:
            sys.stdout.write(response.text)
        return EXIT_OK
    print(json.dumps(response.json(), indent=2))
    return EXIT_OK


def _message(response: httpx.Response) -> str:
    """The gateway's one-line error message, or the start of whatever it answered."""
    try:
        return str(response.json()["errors"][0]["message"])
    except (ValueError, KeyError, IndexError, TypeError):
        return (
            response.text.strip().splitlines()[0][:200] if response.text.strip() else response.reason_phrase
        )
