"""Fleet-wide SLIs, in process: the status page and the canary decide on every worker's requests.

Two gateways share one real redis-server; each sees fewer requests than the evidence the
status page and the canary need, the fleet together sees enough.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.fleet.test_shared_quotas import WEB, workers
from tests.processes import RedisServer

ROOT = Path(__file__).resolve().parents[2]
BILLING = ROOT / "plans" / "2023-03-06-billing.toml"  # forgets the first-party exemption
HOME = "/2/users/12/timelines/reverse_chronological"
TOKEN = "a-token-for-the-sli-tests"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def until(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return found


def test_the_status_page_of_either_worker_counts_the_whole_fleets_requests(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with workers(redis_server.url, 2, tmp_path, plans=BILLING) as (one, two):
        for client in (one, two):
            assert {client.get(HOME, headers=WEB).status_code for _ in range(15)} == {467}
        status = until(
            lambda: (
                (s := two.get("/_gw467/status").json())["classes"].get("web", {}).get("requests_5m") == 30
                and s
            )
        )
    assert status["counts"] == "fleet"
    assert status["classes"]["web"]["status"] == "outage"  # 15 alone would be too few to say so
    assert status["status"] == "outage"


def test_a_canary_is_rolled_back_once_for_the_fleet_on_the_fleets_first_party_errors(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with workers(redis_server.url, 2, tmp_path, admin_token=TOKEN) as (one, two):
        pushed = one.post(
            "/_gw467/admin/plans",
            params={"mode": "canary", "fraction": "1.0"},
            content=BILLING.read_bytes(),
            headers=ADMIN,
        )
        assert pushed.status_code == 200, pushed.text
        until(
            lambda: all(
                c.get("/_gw467/admin/deployment", headers=ADMIN).json()["mode"] == "canary"
                for c in (one, two)
            )
        )
        # 12 each: under the canary's 20-request minimum on either worker, 24 for the fleet.
        for client in (one, two):
            assert {client.get(HOME, headers=WEB).status_code for _ in range(12)} == {467}
        documents = until(
            lambda: (
                (d := [c.get("/_gw467/admin/deployment", headers=ADMIN).json() for c in (one, two)])
                and all(doc["mode"] == "none" for doc in d)
                and d
            )
        )
    audit = documents[0]["fleet"]["audit"]
    assert [entry["action"] for entry in audit].count("rollback:canary") == 1
    assert "fleet-wide first-party error rate" in audit[-1]["reason"]
    assert {doc["active"] for doc in documents} == {"2023-03-06-billing-fixed"}
