"""The code of the README and of the site's pages is run, so the snippets users copy keep working;
and the README stays a landing page (short, the quick start first)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.safety.coverage import CoverageRecorder
from gateway.safety.suite import load_suite, run_suite
from tests.conftest import ROOT
from tests.processes import free_port, running

README = (ROOT / "README.md").read_text()
OWN_APP = ROOT / "docs" / "how-to" / "own-app.md"
PLAN_TESTS = ROOT / "docs" / "how-to" / "plan-tests.md"
# The README keeps the shortest own-app snippet; the how-to guide has the same, with its options.
SNIPPET_PAGES = {"README.md": README, "docs/how-to/own-app.md": OWN_APP.read_text()}
OWN_APP_HEADING = "## Use it in front of your own app"
README_MOST_LINES = 250


def python_block_after(heading: str, text: str = README) -> str:
    section = text.split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


@pytest.fixture(autouse=True)
def _from_the_repository_root() -> Any:
    previous = os.getcwd()
    os.chdir(ROOT)
    yield
    os.chdir(previous)


@pytest.mark.parametrize("page", sorted(SNIPPET_PAGES))
def test_readme_middleware_snippet_guards_a_users_own_app(page: str, tmp_path: Any) -> None:
    # Run from elsewhere: the snippet names a shipped plan file, found wherever the module is.
    namespace: dict[str, Any] = {}
    os.chdir(tmp_path)
    exec(python_block_after(OWN_APP_HEADING, SNIPPET_PAGES[page]), namespace)
    assert namespace["PLANS"] == "2023-03-06-billing-fixed"

    async def exchange() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=namespace["app"])
        async with httpx.AsyncClient(transport=transport, base_url="http://readme.test") as client:
            return [
                await client.get("/2/tweets/7", headers={"Authorization": "Bearer gw467-demo-android"}),
                await client.get("/2/tweets/7", headers={"Authorization": "Bearer gw467-demo-sunrise-bot"}),
                await client.get("/2/tweets/7"),
            ]

    first_party, free_plan, anonymous = asyncio.run(exchange())
    assert first_party.json() == {"id": "7", "client": "android"}
    assert free_plan.status_code == 467
    assert anonymous.status_code == 401


@pytest.mark.slow
def test_readme_middleware_snippet_pasted_into_a_module_outside_the_repository_serves_under_uvicorn(
    tmp_path: Path,
) -> None:
    """As a user would: the snippet in their own module, in a directory of theirs, `uvicorn module:app`."""
    home = tmp_path / "elsewhere"
    home.mkdir()
    (home / "readme_app.py").write_text(python_block_after("## Use it in front of your own app"))
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "readme_app:app", "--port", str(port)]
    # The package as installed (this checkout on the path), the module found from the working directory.
    env = {"PYTHONPATH": str(ROOT)}
    os.chdir(home)  # the autouse fixture changes back
    with running(command, port, tmp_path / "uvicorn.log", env) as server:
        first_party, free_plan = (
            httpx.get(f"{server.base}/2/tweets/7", headers={"Authorization": f"Bearer {key}"})
            for key in ("gw467-demo-android", "gw467-demo-sunrise-bot")
        )
    assert not (home / "plans").exists()
    assert first_party.json() == {"id": "7", "client": "android"}
    assert free_plan.status_code == 467 and free_plan.headers["x-gw467-rule"] == "plan:free/deny"


def test_readme_property_snippet_builds_a_hypothesis_test_that_passes() -> None:
    namespace: dict[str, Any] = {}
    snippet = python_block_after("`gateway.verification`, for your own test suite", PLAN_TESTS.read_text())
    exec(snippet, namespace)
    namespace["test_no_regression"]()


def test_readme_is_a_landing_page_of_at_most_250_lines() -> None:
    assert len(README.splitlines()) <= README_MOST_LINES


def test_readme_quick_start_is_two_make_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick_start.strip().splitlines()]
    assert commands == ["make replay", "make test"]


def test_readme_test_file_snippet_is_a_suite_the_example_plan_file_passes(tmp_path: Any) -> None:
    section = PLAN_TESTS.read_text().split("## Testing your own plan files", 1)[1]
    match = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert match, "no toml block in the section"
    suite_file = tmp_path / "readme.toml"
    suite_file.write_text(match.group(1))
    table = compile_plan_set(load_plan_set(ROOT / "examples" / "fastapi_app" / "plans" / "shortlinks.toml"))
    run = run_suite(table, load_suite(suite_file), CoverageRecorder(table))
    assert len(run.results) == 4
    # The excerpt leaves out the partner's cases, so default = "deny" flags its grants, and only those.
    (unlisted,) = run.failed
    assert unlisted.where == "default"
    assert unlisted.failures and all(failure.startswith("partner ") for failure in unlisted.failures)
