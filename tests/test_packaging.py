"""The built wheel, installed outside the repository: a middleware without the CLI's weight.

The wheel is built from a copy of the sources (so the repository is left as it was) with the
setuptools the test extra installs, without network; it is installed with --target
into a temporary directory, and every check runs from a directory outside the repository with
that directory first on PYTHONPATH (the dependencies come from this virtualenv).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.test_under_uvicorn import (
    DASHBOARD,
    HOBBYIST,
    PLANS_SOURCE,
    assert_refused_to_start,
    serving,
    start_expecting_failure,
    write_user_app,
)

pytestmark = pytest.mark.slow  # builds and installs a wheel (about 5 s)

CORE_REQUIREMENTS = {"starlette", "pydantic", "prometheus-client", "mypy-extensions"}
NOT_FOR_THE_MIDDLEWARE = ("matplotlib", "numpy", "PIL", "hypothesis", "rich", "uvicorn", "httpx", "locust")
SHIPPED = [
    "gateway/py.typed",
    "gateway/data/plans/2023-02-baseline.toml",
    "gateway/data/plans/2023-03-06-billing.toml",
    "gateway/data/plans/2023-03-06-billing-fixed.toml",
    "gateway/data/scenarios/2019-07-11-technically-wrong.toml",
    "gateway/data/scenarios/2023-03-06-error-467.toml",
    "gateway/data/scenarios/2023-03-06-fixed.toml",
    "gateway/data/scenarios/2023-03-06-ringed-rollout.toml",
    "gateway/data/scenarios/services/2019-07-11-core-reroute.toml",
    "gateway/data/scenarios/services/healthy.toml",
    # What an editor's `#:schema` directive points at, as `gw467 schema KIND --path` prints it.
    "gateway/data/schemas/plan.schema.json",
    "gateway/data/schemas/scenario.schema.json",
    "gateway/data/schemas/suite.schema.json",
]


def pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--quiet", "--no-deps", "--no-index"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "gateway", source / "gateway", ignore=shutil.ignore_patterns("__pycache__"))
    pip("wheel", "--no-build-isolation", "--wheel-dir", str(work / "dist"), str(source))
    (built,) = (work / "dist").glob("gw467-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    target = wheel.parent.parent / "site"
    pip("install", "--target", str(target), str(wheel))
    return target


def run_outside(installed: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` from a directory outside the repository, the installed wheel first on the path."""
    elsewhere = installed.parent / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, *args],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_wheel_holds_py_typed_and_the_real_plan_and_scenario_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = {info.filename: info for info in archive.infolist()}
        for name in SHIPPED:
            assert name in members, name
            assert not stat.S_ISLNK(members[name].external_attr >> 16), f"{name} is a link"
            repository_copy = ROOT / name
            assert archive.read(name) == repository_copy.read_bytes(), name
        assert any(
            name.endswith(".dist-info/licenses/LICENSE") or name.endswith(".dist-info/LICENSE")
            for name in members
        )


def test_the_wheel_requires_only_the_middleware_dependencies_outside_its_extras(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(
            archive.read(n).decode() for n in archive.namelist() if n.endswith(".dist-info/METADATA")
        )
    requirements = [
        line.removeprefix("Requires-Dist: ")
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    core = {
        requirement.split(">")[0].split("[")[0]
        for requirement in requirements
        if "extra ==" not in requirement
    }
    assert core == CORE_REQUIREMENTS
    extras = {
        line.removeprefix("Provides-Extra: ")
        for line in metadata.splitlines()
        if line.startswith("Provides-Extra: ")
    }
    assert extras == {"cli", "docs", "fleet", "impact", "openapi", "spark", "testing", "test"}


IMPORT_THE_MIDDLEWARE = f"""
import json, sys
import gateway
from gateway import EntitlementMiddleware
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({NOT_FOR_THE_MIDDLEWARE!r}))
print(json.dumps({{"file": gateway.__file__, "version": gateway.__version__, "loaded": loaded}}))
"""


def test_importing_the_middleware_pulls_no_cli_or_test_library(installed: Path) -> None:
    done = run_outside(installed, "-c", IMPORT_THE_MIDDLEWARE)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert Path(found["file"]) == installed / "gateway" / "__init__.py"
    assert found["version"] == "0.1.0"
    assert found["loaded"] == []
    assert (installed / "gateway" / "py.typed").is_file()


def test_check_finds_a_shipped_plan_file_by_name_outside_the_repository(installed: Path) -> None:
    done = run_outside(installed, "-m", "gateway", "check", "2023-02-baseline")
    assert done.returncode == 0, done.stderr
    shipped = installed / "gateway" / "data" / "plans" / "2023-02-baseline.toml"
    assert done.stdout.startswith(f"ok {shipped}: version 2023-02-baseline; 40 endpoints")


def test_the_schema_path_names_the_installed_schema_file(installed: Path) -> None:
    done = run_outside(installed, "-m", "gateway", "schema", "plan", "--path")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(installed / "gateway" / "data" / "schemas" / "plan.schema.json")


def test_every_shipped_scenario_loads_by_name_outside_the_repository(installed: Path) -> None:
    done = run_outside(installed, "-m", "gateway", "traffic", "2023-03-06-error-467")
    assert done.returncode == 0, done.stderr
    assert '"client": "tco"' in done.stdout
    check_all = (
        "from gateway.core.shipped import locate, shipped_names\n"
        "from gateway.replay.scenario import load_scenario\n"
        "for name in shipped_names('scenarios'):\n"
        "    print(name, load_scenario(locate('scenarios', name)).plans.resolve())\n"
    )
    done = run_outside(installed, "-c", check_all)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "2019-07-11-technically-wrong",
        "2023-03-06-error-467",
        "2023-03-06-fixed",
        "2023-03-06-ringed-rollout",
    ]
    assert all(
        line.split()[1] == str(installed / "gateway/data/plans/2023-02-baseline.toml") for line in lines
    )


def test_a_users_fastapi_app_runs_under_uvicorn_from_the_wheel_and_refuses_a_broken_plan_file(
    installed: Path,
) -> None:
    """Issue 10's acceptance: literal beside parameter route, public health check, UTF-8 path
    parameter and `--root-path`, end to end; the same app with a broken plan file never starts."""
    elsewhere = write_user_app(installed.parent / "users-project")
    (elsewhere / "broken.toml").write_text(PLANS_SOURCE.replace("[[endpoints]]", "[[endpoints]", 1))
    from_the_wheel = {"PYTHONPATH": str(installed)}
    with (
        serving(elsewhere, "--root-path", "/api", env=from_the_wheel) as base,
        httpx.Client(base_url=base) as client,
    ):
        where = client.get("/v1/items/featured", headers=DASHBOARD)
        health = client.get("/healthz")
        item = client.get("/v1/items/jos%C3%A9", headers=DASHBOARD)
        denied = client.get("/v1/items/42", headers=HOBBYIST)
    assert where.json() == {"featured": True, "url_path": "/api/v1/items/featured"}
    assert (health.status_code, health.json()) == (200, {"ok": True})
    assert item.json() == {"item": "josé", "url_path": "/api/v1/items/josé", "endpoint": "items.get"}
    assert denied.status_code == 467
    failed = start_expecting_failure(elsewhere, {**from_the_wheel, "GW467_PLAN_FILE": "broken.toml"})
    (line,) = [line for line in failed.stderr.splitlines() if "broken.toml" in line]
    assert line.startswith(f"ERROR:    {elsewhere / 'broken.toml'}:")
    assert "TOML syntax error" in line
    assert_refused_to_start(failed, line.removeprefix("ERROR:    "))


def test_the_app_under_uvicorn_imports_the_gateway_from_the_wheel(installed: Path) -> None:
    elsewhere = write_user_app(installed.parent / "users-project")
    probe = "import itemsapp, gateway; print(gateway.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == installed / "gateway" / "__init__.py"
