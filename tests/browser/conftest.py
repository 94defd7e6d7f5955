"""Debian's Chromium, headless, driven by Playwright: no browser downloaded, none fetched at run time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, sync_playwright

from tests.conftest import ROOT

CHROMIUM = Path(os.environ.get("GW467_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "out" / "browser"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module-scoped: while Playwright's sync API runs, its event loop is this thread's running
    # loop, and asyncio.run (the replay, in-process calls) refuses to start; it ends with the module.
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM}: no Chromium here (apt-get install -y chromium, as .ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def offline(browser: Browser) -> Iterator[tuple[BrowserContext, list[str]]]:
    """A context with the network off: every request that is not for a local file is aborted and kept."""
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    refused: list[str] = []

    def refuse(route: Route) -> None:
        refused.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith("file:"), refuse)
    yield context, refused
    context.close()


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name
