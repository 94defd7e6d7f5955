"""A page on another origin fetches an endpoint the gateway refuses, in headless Chromium: with
the page's origin in `[policy] cors_origins` its JavaScript reads the 467; without, the browser
hides the answer (the app's own CORS, which answers the preflight, is the same both times)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.conftest import BILLING, DEMO_KEYS, ROOT
from tests.processes import Server, free_port, running

pytestmark = pytest.mark.slow

# The user's app: its own CORS middleware answers preflights (the gateway passes them with
# cors_preflight) and would let the page read its answers; the gateway is outermost.
APP = """
import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway import EntitlementMiddleware


async def link(request):
    return JSONResponse({"to": "https://example.org/"})


app = EntitlementMiddleware(
    Starlette(
        routes=[Route("/2/links/{id}", link)],
        middleware=[
            Middleware(
                CORSMiddleware, allow_origins=[os.environ["PAGE_ORIGIN"]], allow_headers=["authorization"]
            )
        ],
    ),
    plans=os.environ["PLANS"],
)
"""

PAGE = """<!doctype html>
<title>a page of another origin</title>
<script>
window.outcome = fetch("GATEWAY/2/links/t3st", {headers: {Authorization: "Bearer KEY"}})
  .then(async (response) => ({
    status: response.status,
    rule: response.headers.get("x-gw467-rule"),
    body: await response.json(),
  }))
  .catch((error) => ({error: String(error)}));
</script>
"""


@contextmanager
def page_and_gateway(tmp_path: Path, cors_origins: bool) -> Iterator[tuple[Server, Server]]:
    page_port, gateway_port = free_port(), free_port()
    page_origin = f"http://127.0.0.1:{page_port}"
    policy = "[policy]\ncors_preflight = true\n"
    if cors_origins:
        policy += f'cors_origins = ["{page_origin}"]\n'
    plans = tmp_path / "plans.toml"
    plans.write_text(BILLING.read_text().replace("[policy]\n", policy))
    (tmp_path / "cors_app.py").write_text(APP)
    site = tmp_path / "site"
    site.mkdir()
    gateway_base = f"http://127.0.0.1:{gateway_port}"
    page = PAGE.replace("GATEWAY", gateway_base).replace("KEY", DEMO_KEYS["tco"])
    (site / "index.html").write_text(page)
    serve_page = [
        sys.executable,
        "-m",
        "http.server",
        str(page_port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(site),
    ]
    serve_app = [sys.executable, "-m", "uvicorn", "cors_app:app", "--app-dir", str(tmp_path)]
    serve_app += ["--port", str(gateway_port)]
    env = {"PYTHONPATH": str(ROOT), "PLANS": str(plans), "PAGE_ORIGIN": page_origin}
    with (
        running(serve_page, page_port, tmp_path / "page.log") as page_server,
        running(serve_app, gateway_port, tmp_path / "gateway.log", env) as gateway,
    ):
        yield page_server, gateway


def fetched_from_the_page(browser: Browser, page_server: Server) -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(f"{page_server.base}/index.html")
        outcome: dict[str, Any] = page.evaluate("() => window.outcome")
    finally:
        page.close()
    return outcome


def test_a_page_of_a_listed_origin_reads_the_467_and_its_rule(browser: Browser, tmp_path: Path) -> None:
    with page_and_gateway(tmp_path, cors_origins=True) as (page_server, gateway):
        outcome = fetched_from_the_page(browser, page_server)
        log = gateway.log_text()
    assert outcome["status"] == 467, (outcome, log)
    assert outcome["rule"] == "plan:free/deny"
    assert outcome["body"]["errors"][0]["code"] == 467


def test_without_cors_origins_the_browser_hides_the_refusal_from_the_page(
    browser: Browser, tmp_path: Path
) -> None:
    with page_and_gateway(tmp_path, cors_origins=False) as (page_server, _):
        outcome = fetched_from_the_page(browser, page_server)
    # fetch() rejects: the page never sees the status, the body or the rule.
    assert set(outcome) == {"error"} and outcome["error"].startswith("TypeError"), outcome
