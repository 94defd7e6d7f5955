"""The wheel installed as a user installs it: with its dependencies, in a fresh virtualenv outside
the repository, once for the core and once for each extra that has a command.

tests/test_packaging.py checks the wheel's contents with this virtualenv's packages; this
module proves that each extra alone brings what its commands import (the fault of 9920aaa:
`pip install 'gw467[cli]'` lacked tomli-w, and every gw467 command failed). pip reaches the
package index as a user's does, so this is the one module that needs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_packaging import wheel as wheel

pytestmark = pytest.mark.slow  # two virtualenvs with their dependencies (about 45 s) and a replay

QUIET_PIP = ("--disable-pip-version-check",)
NOT_INHERITED = ("PYTHONPATH", "VIRTUAL_ENV")  # nothing of this virtualenv leaks into the user's


def fresh_venv(where: Path, requirement: str) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    done = subprocess.run(
        [
            str(where / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            requirement,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return where / "bin"


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("a-users-directory")


@pytest.fixture(scope="module")
def core_only(wheel: Path) -> Iterator[Path]:
    yield fresh_venv(wheel.parent.parent / "core-venv", str(wheel))


@pytest.fixture(scope="module")
def cli(wheel: Path) -> Iterator[Path]:
    yield fresh_venv(wheel.parent.parent / "cli-venv", f"{wheel}[cli]")


def gw467(bin: Path, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    return subprocess.run(
        [str(bin / "gw467"), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_core_alone_runs_version_and_check_and_names_the_cli_extra_for_the_rest(
    core_only: Path, elsewhere: Path
) -> None:
    version = gw467(core_only, elsewhere, "--version")
    assert (version.returncode, version.stdout, version.stderr) == (0, "gw467 0.1.0\n", "")
    check = gw467(core_only, elsewhere, "check", "2023-03-06-billing-fixed")
    assert check.returncode == 0, check.stderr
    assert "version 2023-03-06-billing-fixed; 40 endpoints" in check.stdout
    replay = gw467(core_only, elsewhere, "replay", "2023-03-06-error-467")
    assert replay.returncode == 2
    assert replay.stderr == (
        "gw467: error: gw467 replay needs rich, which is not installed: pip install 'gw467[cli]'\n"
    )


def test_the_cli_extra_alone_runs_version_check_catalogue_and_the_replay(cli: Path, elsewhere: Path) -> None:
    version = gw467(cli, elsewhere, "--version")
    assert (version.returncode, version.stdout, version.stderr) == (0, "gw467 0.1.0\n", "")
    check = gw467(cli, elsewhere, "check", "2023-02-baseline")
    assert check.returncode == 0, check.stderr
    # catalogue writes a plan file with tomli-w: the import that 9920aaa's cli extra lacked.
    spec = elsewhere / "spec.json"
    spec.write_text('{"openapi": "3.0.0", "paths": {"/2/tweets/{id}": {"get": {"operationId": "tweet"}}}}')
    catalogue = gw467(cli, elsewhere, "catalogue", "--openapi", str(spec))
    assert catalogue.returncode == 0, catalogue.stderr
    assert 'path = "/2/tweets/{id}"' in catalogue.stdout
    replay = gw467(
        cli, elsewhere, "replay", "2023-03-06-error-467", "--json", "replay.json", "--log", "hour.jsonl",
        timeout=300,
    )  # fmt: skip
    # gw467 impact comes with cli (DuckDB in process): its gate runs on the replay's own log.
    impact = gw467(cli, elsewhere, "impact", "2023-02-baseline", "2023-03-06-billing", "hour.jsonl")
    assert impact.returncode == 1, impact.stderr
    assert replay.returncode == 0, replay.stderr
    assert "first-party requests failed" in replay.stdout
    assert (elsewhere / "replay.json").stat().st_size > 0


def test_the_cli_extra_without_fleet_refuses_a_redis_store_in_one_line(cli: Path, elsewhere: Path) -> None:
    done = gw467(cli, elsewhere, "serve", "--plans", "2023-02-baseline", "--store", "redis://127.0.0.1:1/0")
    assert done.returncode == 2
    assert done.stderr == (
        "gw467: error: store redis://127.0.0.1:1/0 needs redis, which is not installed: "
        "pip install 'gw467[fleet]'\n"
    )
