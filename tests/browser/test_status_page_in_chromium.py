"""The live status page of a real `gw467 serve` on the billing plan, in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from examples.status_demo import CALLS
from gateway.control_plane.status_page import REFRESH_SECONDS
from gateway.request_path.slo import DEFAULT_MIN_REQUESTS
from tests.browser.conftest import screenshot_path
from tests.conftest import BILLING, DEMO_KEYS
from tests.test_serve import serving

pytestmark = pytest.mark.slow

# What each first-party class does most (make status-demo sends the same); under the billing plan
# every one of them gets 467.
FIRST_PARTY_CALLS = CALLS


def send(base: str, client: str, method: str, path: str, times: int) -> set[int]:
    headers = {"Authorization": f"Bearer {DEMO_KEYS[client]}"}
    with httpx.Client(base_url=base) as http:
        return {http.request(method, path, headers=headers).status_code for _ in range(times)}


@pytest.fixture(scope="module")
def billing_hour() -> Iterator[str]:
    """`gw467 serve` on the billing plan after enough calls from each first-party class, all refused."""
    with serving(BILLING) as base:
        for client, (method, path) in FIRST_PARTY_CALLS.items():
            # 100% of the 5-minute window refused, past the 50% outage line, with the
            # minimum evidence a class needs before the page may say so.
            assert send(base, client, method, path, DEFAULT_MIN_REQUESTS) == {467}, client
        yield base


def test_first_party_tiles_say_outage_while_the_5xx_only_page_says_operational(
    browser: Browser, billing_hour: str
) -> None:
    base = billing_hour
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.clock.install()
    page.goto(f"{base}/_gw467/status")
    for client_class in FIRST_PARTY_CALLS:
        tile = page.locator(f'[data-class="{client_class}"]')
        expect(tile).to_have_attribute("data-state", "outage")
        expect(tile).to_have_attribute("data-5xx-state", "operational")
        expect(tile.locator(".state").first).to_have_text("✕ outage")
    expect(page.locator('[data-view="configured"]')).to_contain_text("outage")
    expect(page.locator('[data-view="5xx"]')).to_contain_text("all systems operational")
    expect(page.locator('[data-alert="firing"]')).to_be_visible()
    expect(page.locator('[data-config="2023-03-06-billing"]')).to_be_visible()
    expect(page).to_have_title("gw467 status: outage")
    page.screenshot(path=screenshot_path("status-page.png"), full_page=True)

    expect(page.locator("#min-requests")).to_have_text(str(DEFAULT_MIN_REQUESTS))

    # The page refreshes itself: a class that starts sending appears on the next poll, and
    # with 3 requests of the 20 the page needs it says so rather than "operational".
    assert page.locator('[data-class="third_party"]').count() == 0
    assert send(base, "newsdesk-pro", "GET", "/2/tweets/1", 3) == {200}
    page.clock.run_for(REFRESH_SECONDS * 1000)
    newcomer = page.locator('[data-class="third_party"]')
    expect(newcomer).to_have_attribute("data-state", "not enough traffic")
    expect(newcomer.locator(".state").first).to_have_text("? not enough traffic")
    expect(newcomer).to_contain_text(f"3 of the {DEFAULT_MIN_REQUESTS} requests needed to judge")
    expect(page.locator("#refreshed")).to_contain_text("refreshed")
    newcomer.screenshot(path=screenshot_path("status-tile-not-enough-traffic.png"))
    page.close()


def test_the_first_render_needs_no_javascript(browser: Browser, billing_hour: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{billing_hour}/_gw467/status")
    failing = f"100.0% of {DEFAULT_MIN_REQUESTS} requests failing"
    expect(page.locator('[data-class="tco"]')).to_contain_text(failing)
    expect(page.locator('[data-class="tco"] .beside')).to_contain_text("operational")
    expect(page.locator("noscript")).to_have_count(1)
    context.close()
