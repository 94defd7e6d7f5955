"""Quotas in a shared Redis store, in process: exact across gateways, and the failure policies.

Each `EntitlementMiddleware` here stands for one worker (its own store client, its own event
loop under its own TestClient); they share one real redis-server.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

with warnings.catch_warnings():
    # Starlette 1.x warns on importing its TestClient with httpx; the warning is not ours.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from gateway.core.planfile import load_plan_set
from gateway.fronts.demo_upstream import build_demo_app
from gateway.fronts.middleware import EntitlementMiddleware
from tests.processes import RedisServer, free_port

PLANS = Path(__file__).resolve().parents[2] / "plans" / "2023-03-06-billing-fixed.toml"
BOT = {"Authorization": "Bearer gw467-demo-sunrise-bot"}  # free plan: 50 posts per 900 s
WEB = {"Authorization": "Bearer gw467-demo-web"}  # first-party, exempt: no quota to count


def away_from_a_window_edge(seconds: int = 900, margin: float = 15.0) -> None:
    """Wait out the end of a quota window, so a test's burst falls in one window."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.1)


@contextmanager
def workers(
    url: str, count: int, tmp_path: Path, plans: Path = PLANS, **options: object
) -> Iterator[list[TestClient]]:
    plan_set = load_plan_set(plans)
    with ExitStack() as stack:
        clients = []
        for n in range(count):
            app = EntitlementMiddleware(
                build_demo_app(plan_set),
                plans,
                store=url,
                state_dir=tmp_path / f"state-{n}",
                metrics=True,
                **options,  # type: ignore[arg-type]
            )
            clients.append(stack.enter_context(TestClient(app)))
        yield clients


def test_a_quota_of_50_admits_exactly_50_across_two_gateways_sharing_redis(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    away_from_a_window_edge()
    with workers(redis_server.url, 2, tmp_path) as (one, two):
        statuses = [(one if n % 2 else two).post("/2/tweets", headers=BOT).status_code for n in range(70)]
        refused = one.post("/2/tweets", headers=BOT)
    assert statuses.count(201) == 50 and statuses.count(429) == 20
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert refused.headers["x-gw467-rule"] == "quota:free"
    assert int(refused.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("policy", "status", "counted"),
    [("local", 201, True), ("open", 201, False), ("closed", 503, False)],
)
def test_a_store_outage_is_answered_by_the_policy_never_by_467_or_429(
    policy: str, status: int, counted: bool, tmp_path: Path
) -> None:
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with workers(nobody, 1, tmp_path, store_failure=policy) as (client,):
        response = client.post("/2/tweets", headers=BOT)
        exempt = client.get("/2/users/12/timelines/reverse_chronological", headers=WEB)
        status_document = client.get("/_gw467/status").json()
        metrics = client.get("/_gw467/metrics").text
        page = client.get("/_gw467/status", headers={"Accept": "text/html"}).text
    assert response.status_code == status
    assert response.headers["x-gw467-rule"] == f"store:unavailable ({policy})"
    assert ("x-rate-limit-remaining" in response.headers) is counted
    assert exempt.status_code == 200  # no quota to count: the outage does not touch it
    store = status_document["store"]
    assert store["available"] is False and store["failure_policy"] == policy
    assert f"UNAVAILABLE: policy {policy} holds" in page and 'data-store="unavailable"' in page
    assert f'gw467_store_failures_total{{operation="quota",policy="{policy}"}} 1.0' in metrics


def wait_for_the_store(client: TestClient | httpx.Client, timeout: float = 10) -> None:
    """Until the gateway has seen the store answer again (its fleet heartbeat tries every 0.5 s)."""
    deadline = time.monotonic() + timeout
    while not client.get("/_gw467/status").json()["store"]["available"]:
        assert time.monotonic() < deadline, "the store did not come back"
        time.sleep(0.05)


def test_quotas_are_shared_again_once_redis_comes_back(redis_server: RedisServer, tmp_path: Path) -> None:
    away_from_a_window_edge()
    with workers(redis_server.url, 1, tmp_path) as (client,):
        assert client.post("/2/tweets", headers=BOT).headers["x-gw467-rule"].startswith("plan:free")
        redis_server.stop(kill=True)
        during = [client.post("/2/tweets", headers=BOT) for _ in range(5)]
        redis_server.start()  # empty: no persistence
        wait_for_the_store(client)
        after = [client.post("/2/tweets", headers=BOT) for _ in range(55)]
        status_document = client.get("/_gw467/status").json()
    assert {r.headers["x-gw467-rule"] for r in during} == {"store:unavailable (local)"}
    assert {r.status_code for r in during} == {201}
    assert [r.status_code for r in after].count(201) == 50
    assert after[0].headers["x-rate-limit-remaining"] == "49"
    assert status_document["store"]["available"] is True
