"""SIGHUP re-reads the plan file of a running `gw467 serve`: a good file is pushed, a bad one is one line."""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

import httpx
import pytest

from gateway.control_plane.local_deployment import LocalDeployment
from gateway.control_plane.reload import reload_plans
from gateway.fronts.settings import GatewaySettings
from tests.conftest import BILLING, FIXED
from tests.processes import gw467_serve

TCO = {"Authorization": "Bearer gw467-demo-tco"}


def test_reload_pushes_a_good_file_and_keeps_the_table_on_a_bad_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plans = tmp_path / "plans.toml"
    shutil.copy(BILLING, plans)
    gateway = GatewaySettings.embedded().runtime(plans)
    deployment = LocalDeployment(gateway)
    plans.write_text(plans.read_text() + "\n[[nonsense\n")
    assert not asyncio.run(reload_plans(deployment, plans, "test"))
    assert gateway.table.version == "2023-03-06-billing"
    shutil.copy(FIXED, plans)
    assert asyncio.run(reload_plans(deployment, plans, "test"))
    assert deployment.deployment_document()["events"][-1]["action"] == "push:direct"
    assert deployment.deployment_document()["events"][-1]["reason"] == "test"
    assert gateway.table.version != "2023-03-06-billing"


@pytest.mark.slow
def test_sighup_to_gw467_serve_reloads_a_good_file_and_logs_one_line_for_a_bad_one(tmp_path: Path) -> None:
    plans = tmp_path / "plans.toml"
    shutil.copy(BILLING, plans)
    with gw467_serve(plans, tmp_path, env={"GW467_ADMIN_TOKEN": "t0ken"}) as server:
        assert httpx.get(f"{server.base}/2/links/t3st", headers=TCO).status_code == 467

        plans.write_text('version = "broken"\n')
        server.process.send_signal(signal.SIGHUP)
        log = server.wait_for_log("SIGHUP: kept version 2023-03-06-billing")
        (line,) = [line for line in log.splitlines() if "SIGHUP" in line]
        assert str(plans) in line
        assert httpx.get(f"{server.base}/2/links/t3st", headers=TCO).status_code == 467
        assert server.process.poll() is None

        shutil.copy(FIXED, plans)
        server.process.send_signal(signal.SIGHUP)
        server.wait_for_log("in force (was 2023-03-06-billing)")
        response = httpx.get(f"{server.base}/2/links/t3st", headers=TCO, follow_redirects=False)
        assert response.status_code == 301
        deployment = httpx.get(
            f"{server.base}/_gw467/admin/deployment", headers={"Authorization": "Bearer t0ken"}
        ).json()
        assert deployment["events"][-1]["action"] == "push:direct"
        assert deployment["events"][-1]["reason"] == "SIGHUP"
        assert deployment["history"] == ["2023-03-06-billing"]
