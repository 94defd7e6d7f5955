"""`make status-demo`: the status page of a real `gw467 serve`, in one bounded command.

Starts the gateway on a free loopback port, waits until it listens, sends every first-party
class more than the minimum a class needs to be judged (and one third-party app fewer, to
show a tile that cannot be judged yet), prints the page's summary, and stops the server.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from gateway.request_path.slo import DEFAULT_MIN_REQUESTS

ROOT = Path(__file__).resolve().parent.parent
# What each first-party class does most (the demo keys are in the shipped plan files).
CALLS = {
    "web": ("GET", "/2/users/1/timelines/reverse_chronological"),
    "ios": ("GET", "/2/users/1/timelines/reverse_chronological"),
    "android": ("GET", "/2/users/1/timelines/reverse_chronological"),
    "tweetdeck": ("GET", "/1.1/tweetdeck/columns/1/feed"),
    "tco": ("GET", "/2/links/t3st"),
    "media": ("GET", "/2/media/3_1"),
    "login": ("POST", "/1.1/onboarding/task.json"),
}
THIRD_PARTY = ("newsdesk-pro", "GET", "/2/tweets/1")
DEADLINE_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def send(base: str, client: str, method: str, path: str) -> int:
    request = urllib.request.Request(
        base + path, method=method, headers={"Authorization": f"Bearer gw467-demo-{client}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status: int = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status


def _alert(alert: dict[str, Any]) -> str:
    return f"firing ({alert['fired_by']})" if alert["firing"] else "quiet"


def summary(document: dict[str, Any]) -> list[str]:
    """The page in a few lines: the two banners, the minimum, one line per class."""
    lines = [
        f"status page ({document['sli']}): {document['status']}",
        f"a 5xx-only page would say: {document['5xx_view']['status']}",
        f"a class is judged once it has sent {document['min_requests']} requests in the last 5 minutes",
        f"burn-rate alert: {_alert(document['alert'])}",
    ]
    five_xx = document["5xx_view"]["classes"]
    for name, status in document["classes"].items():
        lines.append(
            f"  {name:<12} {status['status']:<19} {status['error_rate_5m']:6.1%} of "
            f"{status['requests_5m']:>3} requests failing; 5xx-only page: {five_xx[name]['status']}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="status-demo", description=__doc__)
    parser.add_argument("--plans", default=str(ROOT / "plans" / "2023-03-06-billing.toml"))
    parser.add_argument("--sli", choices=("first-party-denials", "5xx"), default="first-party-denials")
    args = parser.parse_args(argv)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gateway", "serve", "--plans", args.plans, "--port", str(port)]
    command += ["--host", "127.0.0.1", "--sli", args.sli, "--no-decision-log"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        started = time.monotonic()
        while not listening(port):
            if server.poll() is not None or time.monotonic() > deadline:
                error = server.stderr.read().decode() if server.stderr else ""
                print(f"status-demo: gw467 serve did not start listening on {base}: {error}", file=sys.stderr)
                return 2
            time.sleep(0.1)
        print(
            f"gw467 serve --plans {Path(args.plans).name} --sli {args.sli}: listening on {base} "
            f"after {time.monotonic() - started:.1f} s"
        )
        sent = 0
        for client, (method, path) in CALLS.items():
            for _ in range(DEFAULT_MIN_REQUESTS + 5):
                send(base, client, method, path)
                sent += 1
        for _ in range(3):
            send(base, *THIRD_PARTY)
            sent += 1
        print(
            f"sent {sent} requests: {DEFAULT_MIN_REQUESTS + 5} from each first-party class, "
            "3 from one third-party app"
        )
        with urllib.request.urlopen(base + "/_gw467/status", timeout=5) as response:
            document = json.load(response)
        print("\n".join(summary(document)))
        print("the page itself: make serve, then http://127.0.0.1:8467/_gw467/status in a browser")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
