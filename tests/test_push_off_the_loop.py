"""A push of a large catalogue is read, validated and compiled off the event loop: the gateway goes
on answering requests while it compiles, and only the swap happens between two requests.

Shown by a ratio within one run, not by a timing bound (timings are `make bench`'s): while a push
of a 30,000-endpoint catalogue is under way, requests go on being answered, and no wait between
two answers is a large share of the push (compiled on the loop, one wait is most of it).
"""

from __future__ import annotations

import threading
import time
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from benchmarks.synthetic import catalogue_text
from tests.processes import gw467_serve

pytestmark = pytest.mark.slow  # a server, and a push that compiles for seconds

TOKEN = "t0ken-push-off-the-loop"
APP = {"Authorization": "Bearer gw467-bench-app-key"}
PUSHED_ENDPOINTS = 30_000


def test_requests_are_answered_while_a_large_push_compiles(tmp_path: Path) -> None:
    plans = tmp_path / "small.toml"
    plans.write_text(catalogue_text(30))
    large = catalogue_text(PUSHED_ENDPOINTS).encode()
    with gw467_serve(plans, tmp_path, env={"GW467_ADMIN_TOKEN": TOKEN}) as server:
        pushed: dict[str, float | int] = {}
        sent = time.monotonic()

        def push() -> None:
            with httpx.Client(base_url=server.base, timeout=300) as admin:
                response = admin.post(
                    "/_gw467/admin/plans",
                    content=large,
                    headers={"Authorization": f"Bearer {TOKEN}", "X-Gw467-Reason": "large catalogue"},
                )
            pushed.update(status=response.status_code, answered=time.monotonic())

        answered: list[float] = []
        with httpx.Client(base_url=server.base, timeout=30) as client:
            started = threading.Thread(target=push)
            started.start()
            while started.is_alive():
                client.get("/v1/r0/items/7", headers=APP)
                answered.append(time.monotonic())
            started.join()
            after = client.get("/_gw467/admin/deployment", headers={"Authorization": f"Bearer {TOKEN}"})
    assert pushed["status"] == 200
    during = [sent, *(moment for moment in answered if moment < pushed["answered"]), pushed["answered"]]
    longest_wait = max(later - earlier for earlier, later in pairwise(during))
    push_took = pushed["answered"] - sent
    assert longest_wait < push_took / 4, (
        f"a request waited {longest_wait:.2f} s of a {push_took:.2f} s push ({len(during) - 2} answered)"
    )
    assert after.json()["active"] == f"catalogue-{PUSHED_ENDPOINTS}"
