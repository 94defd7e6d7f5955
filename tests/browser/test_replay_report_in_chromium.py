"""The replay's web report, opened from disk in headless Chromium with the network off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from gateway.replay.compare import CONFIGURATIONS
from tests.browser.conftest import screenshot_path
from tests.replay.conftest import short_scenario

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`gw467 replay --html` of the 6-minute scenario (push at 09:00, rollback at 09:02), alone and compared.

    Run as commands, both at once: in this process Playwright's loop would stop asyncio.run.
    """
    directory = tmp_path_factory.mktemp("report")
    scenario = str(short_scenario(directory))
    written = {"replay": directory / "replay.html", "compare": directory / "compare.html"}
    commands = [
        [sys.executable, "-m", "gateway", "replay", scenario, "--html", str(written["replay"])],
        [sys.executable, "-m", "gateway", "replay", scenario, "--compare", "--html", str(written["compare"])],
    ]
    running = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for command in commands]
    assert [process.wait(timeout=60) for process in running] == [0, 0]
    return written


def open_offline(offline: tuple[BrowserContext, list[str]], path: Path, fragment: str = "") -> Page:
    context, _refused = offline
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri() + fragment)
    assert errors == []
    return page


def figures(page: Page) -> str:
    return page.locator("[data-minute-panel]:visible").inner_text()


def test_the_report_renders_its_charts_events_and_summary_with_no_network(
    offline: tuple[BrowserContext, list[str]], reports: dict[str, Path]
) -> None:
    page = open_offline(offline, reports["replay"])
    timeline = page.locator("#timeline svg")
    box = timeline.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 150
    # One line per first-party class that sent traffic, and the third-party line, each drawn.
    lines = timeline.locator("path[data-class]")
    expect(lines).to_have_count(4)
    for index in range(4):
        assert len(lines.nth(index).get_attribute("d") or "") > 20
    expect(page.locator("#events tr[data-event]")).to_have_count(2)
    expect(page.locator("#events")).to_contain_text("2023-03-06-billing")
    expect(page.locator("#summary")).to_contain_text("242 (32.5%): 467 242")
    page.screenshot(path=screenshot_path("replay-report.png"), full_page=True)
    assert offline[1] == []  # nothing outside the file was even asked for


def test_the_cursor_shows_each_minutes_figures_and_both_status_pages(
    offline: tuple[BrowserContext, list[str]], reports: dict[str, Path]
) -> None:
    page = open_offline(offline, reports["replay"])
    cursor_line = page.locator("#timeline line.cursor")
    start = cursor_line.get_attribute("x1")
    page.locator("#cursor").fill("0")
    assert "08:58 PST" in figures(page)
    expect(page.locator('[data-minute-panel="0"] [data-view="configured"] .state')).to_have_text(
        "✓ operational"
    )
    assert cursor_line.get_attribute("x1") != start

    page.locator("#cursor").fill("3")
    panel = page.locator('[data-minute-panel="3"]')
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("09:01 PST")
    expect(panel).to_contain_text("2023-03-06-billing")
    expect(panel.locator('[data-view="configured"] .state')).to_have_text("✕ outage")
    expect(panel.locator('[data-view="5xx"] .state')).to_have_text("✓ operational")
    expect(page.locator("[data-minute-panel]:visible")).to_have_count(1)

    # Clicking the chart moves the cursor to the minute under the pointer.
    timeline = page.locator("#timeline svg")
    box = timeline.bounding_box()
    assert box is not None
    width, left, step = (
        float(timeline.get_attribute(a) or 0) for a in ("data-width", "data-left", "data-step")
    )
    x_of_minute_5 = (left + 5.5 * step) * box["width"] / width
    timeline.click(position={"x": x_of_minute_5, "y": box["height"] / 2})
    expect(page.locator("#cursor")).to_have_value("5")
    assert "09:03 PST" in figures(page)


def test_the_comparison_report_shows_the_layer_table_and_each_layers_timeline(
    offline: tuple[BrowserContext, list[str]], reports: dict[str, Path]
) -> None:
    page = open_offline(offline, reports["compare"])
    expect(page.locator("#layers tr[data-layer]")).to_have_count(len(CONFIGURATIONS))
    expect(page.locator('#layers tr[data-layer="diff"]')).to_contain_text("diff gate")
    expect(page.locator("[data-layer-chart]")).to_have_count(len(CONFIGURATIONS))
    page.locator("#cursor").fill("3")
    layers = page.locator('[data-minute-panel="3"] table.layers-at-minute tr')
    expect(layers).to_have_count(len(CONFIGURATIONS) + 1)
    # The canary judged on 5xx saw nothing, on first-party denials it rolled back.
    expect(layers.nth(4)).to_contain_text("5xx")
    page.screenshot(path=screenshot_path("compare-report.png"), full_page=True)
    assert offline[1] == []


@pytest.mark.parametrize("report", ["replay", "compare"])
def test_a_link_ending_in_t_and_a_minute_opens_the_report_at_that_minute(
    offline: tuple[BrowserContext, list[str]], reports: dict[str, Path], report: str
) -> None:
    page = open_offline(offline, reports[report], "#t=09:01")
    expect(page.locator("#cursor")).to_have_value("3")
    expect(page.locator("[data-minute-panel]:visible")).to_contain_text("09:01 PST")
    # Moving the cursor rewrites the link, so the address bar always names the minute shown.
    page.locator("#cursor").fill("5")
    assert page.evaluate("location.hash") == "#t=09:03"
    page.evaluate("location.hash = '#t=08:59'")
    expect(page.locator("#cursor")).to_have_value("1")


def test_the_comparison_report_opens_on_the_layer_table(
    offline: tuple[BrowserContext, list[str]], reports: dict[str, Path]
) -> None:
    page = open_offline(offline, reports["compare"])
    page.set_viewport_size({"width": 1280, "height": 800})
    heading = page.locator("#layers-table-heading")
    expect(heading).to_have_text("What each safety layer would have done with this push")
    table = page.locator("#layers").bounding_box()
    assert table is not None and table["y"] + table["height"] <= 800, table  # all of it on the first screen
    page.screenshot(path=screenshot_path("compare-report-first-screen.png"))
