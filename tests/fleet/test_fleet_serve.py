"""`gw467 serve --store redis://...` as a fleet: real servers, real workers, one real redis-server.

Every admin action reaches every worker (the deployment document lists them all on one
version), quotas are exact across workers, a bad file changes no worker's table, racing
pushes converge, a worker restarted while Redis is down comes back on its last good version,
and killing Redis under load is answered by the declared failure policy, never 467 or 429.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_client

from gateway.control_plane.fleet.keys import CHANNEL, PLAN_KEY, STAGE_KEY
from gateway.control_plane.fleet.trust import SECRET_VARIABLE, signed_document, trusted_document
from gateway.core.plans import plan_hash
from tests.fleet.test_shared_quotas import BOT, WEB, away_from_a_window_edge, wait_for_the_store
from tests.processes import RedisServer, Server, gw467_serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXED = ROOT / "plans" / "2023-03-06-billing-fixed.toml"
BASELINE = ROOT / "plans" / "2023-02-baseline.toml"
BILLING = ROOT / "plans" / "2023-03-06-billing.toml"
TOKEN = "a-token-for-the-fleet-tests"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
HOME = "/2/users/12/timelines/reverse_chronological"
SECRET = os.environ[SECRET_VARIABLE].encode()  # tests/conftest.py sets it for every fleet


@contextmanager
def fleet(
    redis: RedisServer,
    tmp_path: Path,
    instances: int = 1,
    workers: int = 2,
    plans: Path = BASELINE,
    name: str = "i",
) -> Iterator[list[Server]]:
    env = {"GW467_ADMIN_TOKEN": TOKEN}
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                gw467_serve(
                    plans,
                    tmp_path,
                    "--workers",
                    str(workers),
                    "--store",
                    redis.url,
                    "--state-dir",
                    str(tmp_path / f"state-{name}{n}"),
                    "--no-decision-log",
                    env=env,
                )
            )
            for n in range(instances)
        ]
        wait_converged(servers[0], workers * instances)
        yield servers


def deployment(server: Server) -> dict[str, Any]:
    response = httpx.get(f"{server.base}/_gw467/admin/deployment", headers=ADMIN, timeout=5)
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_converged(server: Server, workers: int, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        document = deployment(server)["fleet"]
        if document.get("converged") and len(document["workers"]) == workers:
            return dict(document)
        if time.monotonic() > deadline:
            raise AssertionError(f"no convergence: {json.dumps(document, indent=1)}")
        time.sleep(0.1)


def admin(server: Server, action: str, body: bytes | None = None, **query: str) -> httpx.Response:
    return httpx.post(
        f"{server.base}/_gw467/admin/{action}", headers=ADMIN, content=body, params=query, timeout=5
    )


def worker_versions(document: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    return {(w["version"], w["candidate"], w["mode"]) for w in document["workers"]}


def fresh(base: str) -> httpx.Client:
    # A new connection per request, so the kernel spreads them over the workers.
    return httpx.Client(base_url=base, limits=httpx.Limits(max_keepalive_connections=0), timeout=5)


def test_push_shadow_canary_promote_and_rollback_each_reach_both_workers_and_quotas_are_exact(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with fleet(redis_server, tmp_path) as (server,):
        steps: list[tuple[str, dict[str, str], bytes | None, tuple[str, str | None, str]]] = [
            ("plans", {"mode": "direct"}, FIXED.read_bytes(), ("2023-03-06-billing-fixed", None, "none")),
            (
                "plans",
                {"mode": "shadow"},
                BILLING.read_bytes(),
                ("2023-03-06-billing-fixed", "2023-03-06-billing", "shadow"),
            ),
            (
                "plans",
                {"mode": "canary", "fraction": "0.5"},
                BASELINE.read_bytes(),
                ("2023-03-06-billing-fixed", "2023-02-baseline", "canary"),
            ),
            ("promote", {}, None, ("2023-02-baseline", None, "none")),
            ("rollback", {}, None, ("2023-03-06-billing-fixed", None, "none")),
        ]
        for action, query, body, expected in steps:
            response = admin(server, action, body, **query)
            assert response.status_code == 200, response.text
            document = wait_converged(server, 2)
            assert worker_versions(document) == {expected}, (action, query)
        assert [entry["action"] for entry in document["audit"]][-5:] == [
            "push:direct",
            "push:shadow",
            "push:canary",
            "promote",
            "rollback",
        ]
        assert len({w["pid"] for w in document["workers"]}) == 2

        away_from_a_window_edge()
        with fresh(server.base) as client:
            statuses = [client.post("/2/tweets", headers=BOT).status_code for _ in range(70)]
    assert statuses.count(201) == 50 and statuses.count(429) == 20


def test_a_bad_file_pushed_to_two_instances_of_two_workers_changes_no_table(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with fleet(redis_server, tmp_path, instances=2) as (one, two):
        refused = admin(two, "plans", b"schema = 1\nversion = 3\n")
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["message"].count("\n") == 0
        document = wait_converged(one, 4)
        assert worker_versions(document) == {("2023-02-baseline", None, "none")}
        assert [entry["action"] for entry in document["audit"]] == ["bootstrap"]

        # A version that reaches the store and does not compile (written there by hand, as a
        # newer control plane or a corrupted store might): every data plane refuses it.
        bad_text = "schema = 1\nversion = 3\n"
        raw = redis_client.Redis.from_url(redis_server.url)
        stored = raw.get(STAGE_KEY)
        assert isinstance(stored, bytes), "the fleet wrote its stage document"
        stage = trusted_document(stored, SECRET)
        digest = plan_hash(bad_text)
        raw.set(PLAN_KEY + digest, bad_text)
        raw.set(
            STAGE_KEY, signed_document(replace(stage, generation=stage.generation + 1, active=digest), SECRET)
        )
        raw.publish(CHANNEL, b"x")
        deadline = time.monotonic() + 10
        workers = deployment(one)["fleet"]["workers"]
        while not all(w["refused"] for w in workers):
            assert time.monotonic() < deadline, workers
            time.sleep(0.1)
            workers = deployment(one)["fleet"]["workers"]
        raw.close()
    assert {w["version"] for w in workers} == {"2023-02-baseline"}
    assert len(workers) == 4


def test_two_racing_pushes_leave_every_worker_on_the_same_version(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with fleet(redis_server, tmp_path, instances=2) as (one, two):
        answers: list[int] = []
        pushes = [
            threading.Thread(
                target=lambda s=s, f=f: answers.append(admin(s, "plans", f.read_bytes()).status_code)
            )
            for s, f in ((one, FIXED), (two, BILLING))
        ]
        for push in pushes:
            push.start()
        for push in pushes:
            push.join()
        document = wait_converged(two, 4)
    assert answers == [200, 200]
    assert len(worker_versions(document)) == 1
    assert worker_versions(document) == {(document["active"], None, "none")}
    assert document["active"] in ("2023-03-06-billing-fixed", "2023-03-06-billing")


def test_a_worker_restarted_while_redis_is_down_comes_back_on_its_last_good_version(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with fleet(redis_server, tmp_path, workers=1, name="same") as (server,):
        assert admin(server, "plans", FIXED.read_bytes()).status_code == 200
        wait_converged(server, 1)
    redis_server.stop(kill=True)
    with fleet_without_redis(redis_server, tmp_path) as server:
        document = deployment(server)
        web = httpx.get(f"{server.base}{HOME}", headers=WEB, timeout=5)
    assert document["active"] == "2023-03-06-billing-fixed"
    assert document["fleet"]["available"] is False
    assert web.status_code == 200


@contextmanager
def fleet_without_redis(redis: RedisServer, tmp_path: Path) -> Iterator[Server]:
    with gw467_serve(
        BASELINE,
        tmp_path,
        "--store",
        redis.url,
        "--state-dir",
        str(tmp_path / "state-same0"),
        env={"GW467_ADMIN_TOKEN": TOKEN},
    ) as server:
        yield server


def test_killing_redis_under_load_is_answered_by_the_local_policy_and_quotas_recover(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    away_from_a_window_edge(margin=30)
    with fleet(redis_server, tmp_path, plans=FIXED) as (server,), fresh(server.base) as client:
        before = [client.post("/2/tweets", headers=BOT) for _ in range(10)]
        redis_server.stop(kill=True)
        during = [client.post("/2/tweets", headers=BOT) for _ in range(20)]
        first_party = [client.get(HOME, headers=WEB) for _ in range(10)]
        status_document = client.get("/_gw467/status").json()
        metrics = client.get("/_gw467/metrics").text
        redis_server.start()
        for _ in range(4):  # each connection may reach either worker: every worker sees Redis back
            wait_for_the_store(client)
        time.sleep(0.6)
        after = [client.post("/2/tweets", headers=BOT) for _ in range(60)]
        document = wait_converged(server, 2)
    assert {r.status_code for r in before} == {201}
    assert {r.status_code for r in during} == {201}  # no 467, no 429, no 5xx from the outage
    assert {r.headers["x-gw467-rule"] for r in during} == {"store:unavailable (local)"}
    assert {r.status_code for r in first_party} == {200}
    assert status_document["store"]["available"] is False
    assert status_document["store"]["failure_policy"] == "local"
    assert 'gw467_store_failures_total{operation="quota",policy="local"}' in metrics
    # Redis came back empty (no persistence): the shared count starts again, exactly.
    assert [r.status_code for r in after].count(201) == 50
    assert worker_versions(document) == {("2023-03-06-billing-fixed", None, "none")}


def test_sighup_in_fleet_mode_pushes_the_file_to_every_instance(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    plans = tmp_path / "plans.toml"
    plans.write_bytes(BASELINE.read_bytes())
    with fleet(redis_server, tmp_path, instances=2, workers=1, plans=plans) as (one, two):
        plans.write_bytes(FIXED.read_bytes())
        one.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while worker_versions(document := wait_converged(two, 2)) != {
            ("2023-03-06-billing-fixed", None, "none")
        }:
            assert time.monotonic() < deadline, document
            time.sleep(0.1)
    assert document["audit"][-1]["who"] == "SIGHUP"


POLLSTER = {"Authorization": "Bearer gw467-demo-pollster-analytics"}  # basic plan: 600 per 900 s


def test_under_load_a_redis_outage_loses_no_request_and_refuses_no_entitled_caller(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    away_from_a_window_edge(margin=60)
    results: list[tuple[str, int, str]] = []
    stop = threading.Event()

    def load(who: str, headers: dict[str, str], path: str, most: int, pause: float) -> None:
        with fresh(server.base) as client:
            for _ in range(most):  # under the basic plan's 600: any 429 would be the outage's
                if stop.is_set():
                    return
                time.sleep(pause)  # spreads the pollster's requests over the whole run
                try:
                    response = client.get(path, headers=headers)
                    results.append((who, response.status_code, response.headers.get("x-gw467-rule", "")))
                except httpx.HTTPError as error:
                    results.append((who, 0, type(error).__name__))

    with fleet(redis_server, tmp_path, plans=FIXED) as (server,):
        threads = [
            threading.Thread(target=load, args=("pollster", POLLSTER, "/2/tweets/12", 500, 0.01)),
            threading.Thread(target=load, args=("web", WEB, HOME, 10_000, 0.0)),
            threading.Thread(target=load, args=("web", WEB, HOME, 10_000, 0.0)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(1)
        redis_server.stop(kill=True)
        time.sleep(2)
        redis_server.start()
        with fresh(server.base) as probe:
            for _ in range(4):
                wait_for_the_store(probe)
        time.sleep(1)
        stop.set()
        for thread in threads:
            thread.join()
        document = wait_converged(server, 2)
    statuses = {status for _, status, _ in results}
    assert statuses == {200}, [r for r in results if r[1] != 200][:5]  # no 467, 429, 5xx or lost request
    pollster_rules = {rule for who, _, rule in results if who == "pollster"}
    assert "store:unavailable (local)" in pollster_rules  # the outage was seen, and answered by the policy
    assert any(rule.startswith("plan:basic") for rule in pollster_rules)
    assert worker_versions(document) == {("2023-03-06-billing-fixed", None, "none")}


def test_rollback_to_a_hash_prefix_needs_eight_characters_and_one_version(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """`rollback?to=3` picked whichever version's hash began with 3; now it names none."""
    with fleet(redis_server, tmp_path, workers=1) as (server,):
        for plans in (FIXED, BILLING):
            assert admin(server, "plans", plans.read_bytes(), mode="direct").status_code == 200
        baseline = plan_hash(BASELINE.read_text())
        for short in (baseline[:1], baseline[:7]):
            refused = admin(server, "rollback", to=short)
            assert refused.status_code == 409, refused.text
            assert refused.json()["errors"][0]["message"] == (
                f"version {short!r}: give its name, or at least 8 characters of its hash"
            )
        assert admin(server, "rollback", to=baseline[:8]).status_code == 200
        document = wait_converged(server, 1)
    assert worker_versions(document) == {("2023-02-baseline", None, "none")}
