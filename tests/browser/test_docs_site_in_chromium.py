"""The documentation site, opened from disk in Chromium with the network off: every page shows
with its theme and asks for nothing beyond its own files (no fonts, scripts or styles from
elsewhere); the build itself needs no network either when the machine can cut it off."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.conftest import screenshot_path
from tests.test_docs_site import build_site

pytestmark = pytest.mark.slow


def _no_network() -> list[str]:
    """A prefix that runs a command with no network (a namespace of its own), when allowed here."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site"), *_no_network())


def test_the_site_builds_without_a_network(site: Path) -> None:
    if not _no_network():
        pytest.skip("unshare -n is not allowed here, so the build could reach the network")
    assert (site / "index.html").is_file()


def test_every_page_shows_from_disk_with_the_network_off(
    site: Path, offline: tuple[BrowserContext, list[str]]
) -> None:
    context, refused = offline
    page = context.new_page()
    # 404.html is for a web server, which answers it for any path: its links start at the root.
    pages = sorted(path for path in site.rglob("*.html") if path.name != "404.html")
    assert len(pages) > 30
    for path in pages:
        page.goto(path.as_uri())
        # The theme's own stylesheet applied: Material sets its header colour from it.
        header = page.locator("header.md-header")
        assert header.count() == 1, path
        assert header.evaluate("e => getComputedStyle(e).position") == "sticky", path
    page.goto((site / "reference" / "performance.html").as_uri())
    page.screenshot(path=screenshot_path("docs-performance.png"), full_page=False)
    assert not refused, refused
