"""The fleet guide's gunicorn commands (docs/how-to/fleet.md: its `myapp.py`, and the app
factory) with two UvicornWorkers: refused at start-up without a shared store when the admin API
is on, one fleet with a real redis-server, where a push reaches both workers."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fleet.test_fleet_serve import BASELINE, TOKEN, admin, wait_converged, worker_versions
from tests.processes import RedisServer, free_port, running

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "how-to" / "fleet.md"
SECTION = GUIDE.read_text().split("**Your own app, or gunicorn, in a fleet.**", 1)[1]
README_STORE = "redis://127.0.0.1:6379/0"
ANDROID = "gw467-demo-android"
REFUSAL = "the gw467 admin API needs one process or a shared store, and this is a gunicorn worker"


def readme_block(language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", SECTION, re.DOTALL)
    assert match, f"no {language} block in {GUIDE.name}'s gunicorn section"
    return match.group(1)


def readme_commands() -> tuple[dict[str, str], list[tuple[dict[str, str], list[str]]]]:
    """The exported settings, and each command with the variables set on its line."""
    exported: dict[str, str] = {}
    commands: list[tuple[dict[str, str], list[str]]] = []
    for line in readme_block("sh").replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            exported[name] = value
            continue
        settings = {}
        while "=" in words[0]:
            name, _, value = words.pop(0).partition("=")
            settings[name] = value
        commands.append((settings, words))
    return exported, commands


EXPORTED, COMMANDS = readme_commands()


def test_the_readme_gives_the_store_to_both_commands_and_runs_gunicorns_uvicorn_worker() -> None:
    assert EXPORTED["GW467_STORE"] == README_STORE
    assert [command[-1] for _, command in COMMANDS] == ["myapp:app", "gateway.fronts.app:create_app()"]
    for _, command in COMMANDS:
        assert command[:5] == ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-w", "2"]


def launch(index: int, tmp_path: Path, store: str | None) -> tuple[list[str], dict[str, str], int]:
    """README command `index` on a free port, from a directory holding the README's myapp.py."""
    (tmp_path / "myapp.py").write_text(readme_block("python"))
    settings, command = COMMANDS[index]
    port = free_port()
    env = {
        **settings,
        "PYTHONPATH": str(ROOT),  # the package, as installed
        "HOME": str(tmp_path),  # gunicorn 27 opens a control socket under ~/.gunicorn
        "GW467_ADMIN_TOKEN": TOKEN,
        "GW467_METRICS": "0",
        "GW467_DECISION_LOG": "0",
        "GW467_STATE_DIR": str(tmp_path / "state"),
    }
    if store is not None:
        env["GW467_STORE"] = store
    return [sys.executable, "-m", *command, "-b", f"127.0.0.1:{port}"], env, port


@pytest.mark.parametrize("index", [0, 1], ids=["myapp", "factory"])
def test_without_a_shared_store_gunicorn_refuses_the_admin_api_with_one_line(
    index: int, tmp_path: Path
) -> None:
    command, env, _ = launch(index, tmp_path, None)
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    output = done.stdout + done.stderr
    refusals = [line for line in output.splitlines() if REFUSAL in line]
    assert refusals and all(line.endswith("or turn the admin API off") for line in refusals), output
    assert "Worker failed to boot." in output
    # gunicorn's "Worker failed to boot." is exit 3. When both workers fail at once its arbiter
    # may meet the second failure while halting and print its own HaltServer traceback (exit 1,
    # a gunicorn race as old as benoitc/gunicorn#1095): never a frame of ours.
    if "Traceback" in output:
        assert done.returncode == 1, output
        assert output.rstrip().endswith("gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>")
        assert "/gateway/" not in output.partition("Traceback")[2], output
    else:
        assert done.returncode == 3, output


@pytest.mark.parametrize("index", [0, 1], ids=["myapp", "factory"])
def test_with_a_redis_store_gunicorn_starts_and_a_push_reaches_both_workers(
    index: int, redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command, env, port = launch(index, tmp_path, redis_server.url)
    monkeypatch.chdir(tmp_path)
    with running(command, port, tmp_path / "gunicorn.log", env) as server:
        assert worker_versions(wait_converged(server, 2)) == {("2023-03-06-billing-fixed", None, "none")}
        pushed = admin(server, "plans", BASELINE.read_bytes(), mode="direct")
        assert pushed.status_code == 200, pushed.text
        document = wait_converged(server, 2)
        assert worker_versions(document) == {("2023-02-baseline", None, "none")}
        assert len({worker["pid"] for worker in document["workers"]}) == 2
        android = httpx.get(
            f"{server.base}/2/tweets/7", headers={"Authorization": "Bearer gw467-demo-android"}
        )
    assert android.status_code == 200
    assert REFUSAL not in server.log_text()
