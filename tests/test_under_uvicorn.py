"""The middleware under a real uvicorn (a subprocess on 127.0.0.1): fail fast, and `--root-path`.

A user's own FastAPI app (`APP_SOURCE`, written beside its plan file as a user would) is run
with uvicorn's default settings. A bad or missing plan file must stop uvicorn before it
accepts a connection, with the one-line error, whether the middleware was added lazily
(`app.add_middleware`, `Middleware(...)`) or wrapped directly; under `--root-path /api` the
gateway must decide on the path below the root path and the app must route as without it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

# The user's app: a literal route beside a parameter route, a public health check.
# How the middleware is attached is chosen by GW467_ATTACH, so one file serves every test.
APP_SOURCE = """
import os
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.middleware import Middleware

from gateway import EntitlementMiddleware

PLANS = Path(__file__).parent / os.environ.get("GW467_PLAN_FILE", "plans.toml")
ATTACH = os.environ.get("GW467_ATTACH", "add_middleware")

api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@api.get("/healthz")
def health() -> dict[str, bool]:
    return {"ok": True}


@api.get("/v1/items/featured")
def featured(request: Request) -> dict[str, object]:
    return {"featured": True, "url_path": request.url.path}


@api.get("/v1/items/{item_id}")
def item(item_id: str, request: Request) -> dict[str, object]:
    state = request.scope["state"]
    return {"item": item_id, "url_path": request.url.path, "endpoint": state["gw467_endpoint"].id}


if ATTACH == "add_middleware":
    api.add_middleware(EntitlementMiddleware, plans=PLANS)
    app = api
elif ATTACH == "middleware_list":
    app = Starlette(middleware=[Middleware(EntitlementMiddleware, plans=PLANS)])
else:
    app = EntitlementMiddleware(api, plans=PLANS)
"""

PLANS_SOURCE = """
schema = 1
version = "items-1"

[policy]
exempt = ["first_party"]
default_plan = "free"

[plans.free]
tier = 0
grants = [{ endpoints = ["items.featured"] }]

[clients.dashboard]
class = "web"
first_party = true
key = "items-demo-dashboard"

[clients.hobbyist]
class = "third_party"
first_party = false
key = "items-demo-hobbyist"

[[endpoints]]
id = "health"
method = "GET"
path = "/healthz"
surface = "ops"
public = true

[[endpoints]]
id = "items.featured"
method = "GET"
path = "/v1/items/featured"
surface = "items"

[[endpoints]]
id = "items.get"
method = "GET"
path = "/v1/items/{item_id}"
surface = "items"
"""

DASHBOARD = {"Authorization": "Bearer items-demo-dashboard"}
HOBBYIST = {"Authorization": "Bearer items-demo-hobbyist"}


def write_user_app(directory: Path) -> Path:
    """The user's app and its plan file in `directory`, as they would lay them out."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "itemsapp.py").write_text(APP_SOURCE)
    (directory / "plans.toml").write_text(PLANS_SOURCE)
    return directory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def uvicorn_command(port: int, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "itemsapp:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *options,
    ]


@contextmanager
def serving(directory: Path, *options: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """uvicorn running the user's app from `directory` (its working directory), until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        uvicorn_command(port, *options),
        cwd=directory,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"uvicorn did not start: {process.communicate()[1]}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class FailedStart:
    returncode: int
    stderr: str
    connected: bool  # whether any connection to the port succeeded while uvicorn ran


def start_expecting_failure(directory: Path, env: dict[str, str]) -> FailedStart:
    """Start uvicorn (default settings) and knock on its port until it exits."""
    port = free_port()
    process = subprocess.Popen(
        uvicorn_command(port),
        cwd=directory,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    connected = False
    deadline = time.monotonic() + 20
    try:
        while process.poll() is None and time.monotonic() < deadline:
            connected = connected or _accepts(port)
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            process.terminate()
        _, stderr = process.communicate(timeout=10)
    return FailedStart(process.returncode, stderr, connected)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def assert_refused_to_start(failed: FailedStart, expected_line: str) -> None:
    assert failed.returncode == 3, failed.stderr  # uvicorn's STARTUP_FAILURE
    assert not failed.connected
    assert "Traceback" not in failed.stderr
    errors = [line for line in failed.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors == [f"ERROR:    {expected_line}", "ERROR:    Application startup failed. Exiting."]
    assert "Application startup complete" not in failed.stderr
    assert "Uvicorn running on" not in failed.stderr


@pytest.fixture(scope="module")
def user_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = write_user_app(tmp_path_factory.mktemp("user") / "itemsapp")
    (directory / "broken.toml").write_text(PLANS_SOURCE.replace('id = "items.get"', 'id = "items featured"'))
    return directory


@pytest.mark.parametrize("attach", ["add_middleware", "middleware_list", "direct"])
def test_a_missing_plan_file_stops_uvicorn_before_it_accepts_a_connection(
    user_app: Path, attach: str
) -> None:
    failed = start_expecting_failure(user_app, {"GW467_ATTACH": attach, "GW467_PLAN_FILE": "missing.toml"})
    assert_refused_to_start(failed, f"{user_app / 'missing.toml'}: no such file")


def test_an_invalid_plan_file_stops_uvicorn_with_the_line_naming_the_key(user_app: Path) -> None:
    failed = start_expecting_failure(user_app, {"GW467_PLAN_FILE": "broken.toml"})
    (line,) = [line for line in failed.stderr.splitlines() if "broken.toml" in line]
    assert line.startswith(f"ERROR:    {user_app / 'broken.toml'}:")
    assert "endpoints[2] (id 'items featured').id: String should match pattern" in line
    assert_refused_to_start(failed, line.removeprefix("ERROR:    "))


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_under_root_path_the_gateway_decides_below_it_and_the_app_routes_as_without_it(
    user_app: Path, http: str
) -> None:
    # A path-stripping proxy sends /v1/items/42 for the public /api/v1/items/42.
    with (
        serving(user_app, "--root-path", "/api", "--http", http) as base,
        httpx.Client(base_url=base) as client,
    ):
        health = client.get("/healthz")
        featured = client.get("/v1/items/featured", headers=DASHBOARD)
        item = client.get("/v1/items/42", headers=DASHBOARD)
        utf8 = client.get("/v1/items/jos%C3%A9", headers=DASHBOARD)
        denied = client.get("/v1/items/42", headers=HOBBYIST)
        granted = client.get("/v1/items/featured", headers=HOBBYIST)
        doubled = client.get("/api/v1/items/42", headers=DASHBOARD)
    assert (health.status_code, health.json(), health.headers["x-gw467-rule"]) == (
        200,
        {"ok": True},
        "public",
    )
    assert featured.json() == {"featured": True, "url_path": "/api/v1/items/featured"}
    assert item.json() == {"item": "42", "url_path": "/api/v1/items/42", "endpoint": "items.get"}
    assert utf8.json() == {"item": "josé", "url_path": "/api/v1/items/josé", "endpoint": "items.get"}
    assert (denied.status_code, denied.headers["x-gw467-rule"]) == (467, "plan:free/deny")
    assert granted.status_code == 200
    # The root path is not part of the catalogue: /api/api/... is no route, as it is for the app.
    assert (doubled.status_code, doubled.headers["x-gw467-rule"]) == (404, "route:none")
