"""The app factory under gunicorn's UvicornWorker with two workers: refused without a shared
store when the admin API is on, one fleet with a real redis-server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fleet.test_fleet_serve import BASELINE, FIXED, TOKEN, admin, wait_converged, worker_versions
from tests.processes import RedisServer, free_port, running

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REFUSAL = "the gw467 admin API needs one process or a shared store, and this is a gunicorn worker"


def gunicorn(port: int) -> list[str]:
    """The README's command: gunicorn's own UvicornWorker over the factory, two workers."""
    return [
        sys.executable, "-m", "gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-w", "2",
        "-b", f"127.0.0.1:{port}", "gateway.serving.app:create_app()",
    ]  # fmt: skip


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    # HOME: gunicorn 27 opens a control socket under ~/.gunicorn.
    return {
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "GW467_PLANS": str(BASELINE),
        "GW467_ADMIN_TOKEN": TOKEN,
        "GW467_METRICS": "0",
        "GW467_DECISION_LOG": "0",
        **settings,
    }


def test_gunicorn_with_two_workers_refuses_the_admin_api_without_a_shared_store(tmp_path: Path) -> None:
    port = free_port()
    done = subprocess.run(
        gunicorn(port),
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 3, output  # gunicorn's "Worker failed to boot."
    refusals = [line for line in output.splitlines() if REFUSAL in line]
    assert refusals and all(line.endswith("or turn the admin API off") for line in refusals), output
    assert "Traceback" not in output
    assert "Reason: Worker failed to boot." in output


def test_gunicorn_with_two_workers_and_a_redis_store_starts_and_a_push_reaches_both(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    port = free_port()
    env = environment(tmp_path, GW467_STORE=redis_server.url, GW467_STATE_DIR=str(tmp_path / "state"))
    with running(gunicorn(port), port, tmp_path / "gunicorn.log", env) as server:
        wait_converged(server, 2)
        pushed = admin(server, "plans", FIXED.read_bytes(), mode="direct")
        assert pushed.status_code == 200, pushed.text
        document = wait_converged(server, 2)
        assert worker_versions(document) == {("2023-03-06-billing-fixed", None, "none")}
        assert len({worker["pid"] for worker in document["workers"]}) == 2
        denied = httpx.get(f"{server.base}/2/links/t3st", headers={"Authorization": "Bearer gw467-demo-tco"})
        assert denied.status_code == 301  # t.co is exempt again under the fixed plan
    assert REFUSAL not in server.log_text()
