"""gateway.fronts.workers: which servers may run several copies of a process, and the admin
API refused there without a shared store, in the middleware, the factory and real servers."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway.fronts.middleware import EntitlementMiddleware
from gateway.fronts.workers import SplitAdminApi, refuse_split_admin_api, sibling_processes
from gateway.stores.redis_store import open_store
from tests.conftest import FIXED, ROOT
from tests.processes import free_port

REFUSAL = "the gw467 admin API needs one process or a shared store"


def test_a_process_started_alone_has_no_siblings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    assert sibling_processes() is None


def test_a_gunicorn_worker_is_seen_from_the_environment_its_arbiter_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")
    assert "gunicorn worker" in (sibling_processes() or "")
    monkeypatch.setenv("SERVER_SOFTWARE", "hypothetical/1.0")
    assert sibling_processes() is None


def test_a_process_started_by_multiprocessing_is_seen_as_a_worker() -> None:
    # uvicorn --workers N and hypercorn start their workers this way (spawn).
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        found = pool.apply(sibling_processes)
    assert found is not None and found.startswith("this is one of the worker processes of ")


@pytest.mark.parametrize(
    ("token", "shared", "processes"),
    [(None, False, "several"), ("t", True, "several"), ("t", False, None)],
)
def test_the_admin_api_is_refused_only_with_a_token_a_private_store_and_siblings(
    token: str | None, shared: bool, processes: str | None
) -> None:
    refuse_split_admin_api(token, shared, processes)


def test_the_refusal_is_one_line_naming_the_reason_and_the_remedies() -> None:
    with pytest.raises(SplitAdminApi) as refused:
        refuse_split_admin_api("t", False, "--workers is 2")
    message = str(refused.value)
    assert message.startswith(f"{REFUSAL}, and --workers is 2: a push would reach only the process")
    assert "\n" not in message and "GW467_STORE" in message and "store=" in message


def test_the_middleware_in_a_gunicorn_worker_fails_lifespan_startup_with_that_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")
    app = EntitlementMiddleware(Starlette(), FIXED, admin_token="t")
    assert isinstance(app.startup_error, SplitAdminApi)
    with pytest.raises(SplitAdminApi, match=REFUSAL), TestClient(app):
        pass
    # Without the admin API, or with a shared store, it starts.
    assert EntitlementMiddleware(Starlette(), FIXED).startup_error is None
    shared = EntitlementMiddleware(
        Starlette(), FIXED, admin_token="t", store=open_store("redis://127.0.0.1:1/0")
    )
    assert shared.startup_error is None


def run_server(command: list[str], tmp_path: Path) -> str:
    """Run a server that should refuse to start; its output, once it has stopped by itself."""
    env = {
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "GW467_PLANS": "2023-03-06-billing-fixed",
        "GW467_ADMIN_TOKEN": "t",
        "GW467_METRICS": "0",
    }
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path
    )
    return done.stdout + done.stderr


@pytest.mark.slow
def test_uvicorn_with_two_workers_and_the_factory_stops_with_the_line(tmp_path: Path) -> None:
    output = run_server(
        [sys.executable, "-m", "uvicorn", "--workers", "2", "--factory", "--port", str(free_port()),
         "gateway.fronts.app:create_app"],
        tmp_path,
    )  # fmt: skip
    assert f"ERROR:    {REFUSAL}, and this is one of the worker processes of uvicorn:" in output
    assert "failed to start, stopping the parent process" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_hypercorn_stops_with_the_line_even_with_one_worker(tmp_path: Path) -> None:
    """hypercorn runs each worker as a spawned process and replaces one that exits, so `-w 1` is
    refused too; hypercorn reports a failed lifespan startup as a traceback ending in the line."""
    output = run_server(
        [sys.executable, "-m", "hypercorn", "-w", "1", "-b", f"127.0.0.1:{free_port()}",
         "gateway.fronts.app:create_app()"],
        tmp_path,
    )  # fmt: skip
    assert (
        f"Lifespan failure in startup. '{REFUSAL}, and this is one of the worker processes of hypercorn:"
        in output
    )
