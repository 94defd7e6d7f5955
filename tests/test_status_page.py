"""The status document as a web page: content negotiation, tiles under both SLIs, escaping."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest

from gateway.control_plane.status_page import render_status_page, wants_html
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.request_path.slo import AvailabilityTracker, BurnRateAlert, status_document
from tests.conftest import BILLING, change_now
from tests.test_control import Clock, as_client, call, gateway

BROWSER_ACCEPT = b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (None, False),
        (b"*/*", False),
        (b"application/json", False),
        (b"text/html", True),
        (BROWSER_ACCEPT, True),
        (b"text/*", True),
        (b"application/json, text/html", False),  # a tie keeps the machines' default
        (b"application/json;q=0.5, text/html", True),
        (b"text/html;q=0.2, application/json;q=0.9", False),
        (b"text/html;q=0, */*", False),
        (b"TEXT/HTML", True),
        (b"text/html;q=oops, application/json;q=0.1", False),  # a malformed q counts as 0
    ],
)
def test_html_only_when_the_accept_header_ranks_it_above_json(accept: bytes | None, html: bool) -> None:
    headers = [] if accept is None else [(b"accept", accept)]
    assert wants_html(headers) is html


def test_several_accept_headers_are_read_as_one_list() -> None:
    assert wants_html([(b"accept", b"application/json;q=0.1"), (b"Accept", b"text/html")])


class Tiles(HTMLParser):
    """The tiles' and banners' data attributes, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tiles: dict[str, tuple[str, str]] = {}
        self.banners: dict[str, str] = {}
        self.has_script = False
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-class" in found:
            self.tiles[str(found["data-class"])] = (str(found["data-state"]), str(found["data-5xx-state"]))
        if "data-view" in found:
            self.banners[str(found["data-view"])] = str(found["data-state"])
        if tag == "script":
            self.has_script = True
        self.external += [str(found[key]) for key in ("src", "href") if found.get(key)]


def parsed(page: bytes) -> Tiles:
    parser = Tiles()
    parser.feed(page.decode("utf-8"))
    return parser


def outage_document() -> dict[str, Any]:
    tracker = AvailabilityTracker()
    for second in range(300):
        tracker.record("tco", True, True, float(second))  # 467s: bad, not 5xx
        tracker.record("<b>app</b>", False, False, float(second))
    alert = BurnRateAlert().evaluate(tracker, 299.0)
    return status_document(tracker, alert, 299.0, "first-party-denials", 0.999)


def test_a_467_outage_shows_outage_tiles_beside_a_5xx_only_page_saying_operational() -> None:
    page = parsed(render_status_page(outage_document()))
    assert page.banners == {"configured": "outage", "5xx": "operational"}
    assert page.tiles["tco"] == ("outage", "operational")


def test_class_names_are_escaped_and_nothing_is_loaded_from_elsewhere() -> None:
    page = render_status_page(outage_document())
    assert b"<b>app</b>" not in page
    assert b"&lt;b&gt;app&lt;/b&gt;" in page
    assert parsed(page).external == []


def test_the_first_render_needs_no_script_and_refreshes_without_one() -> None:
    page = render_status_page(outage_document())
    assert b'<noscript><meta http-equiv="refresh"' in page
    # Every figure is in the markup itself; the script only re-fetches it.
    assert b"100.0% of 300 requests failing" in page


def test_the_gateway_answers_html_to_a_browser_and_json_otherwise() -> None:
    app = gateway()
    change_now(app.deployment.push(compile_plan_set(load_plan_set(BILLING)), reason="test push"))
    for n in range(30):
        as_client(app, "tco", "GET", f"/2/links/{n}")
    html = call(app, "GET", "/_gw467/status", [(b"accept", BROWSER_ACCEPT)])
    assert html.header("content-type") == "text/html; charset=utf-8"
    assert html.header("vary") == "accept"
    page = parsed(html.body)
    assert page.tiles["tco"] == ("outage", "operational")
    assert b'data-config="2023-03-06-billing"' in html.body
    plain = call(app, "GET", "/_gw467/status")
    assert plain.header("content-type") == "application/json"
    assert plain.header("vary") == "accept"
    assert json.loads(plain.body)["5xx_view"]["status"] == "operational"


def test_a_class_under_the_minimum_reads_not_enough_traffic_never_operational() -> None:
    tracker = AvailabilityTracker()
    for second in range(12):
        tracker.record("tco", True, True, float(second))
    alert = BurnRateAlert().evaluate(tracker, 12.0)
    page = render_status_page(status_document(tracker, alert, 12.0, "first-party-denials", 0.999))
    assert parsed(page).tiles["tco"] == ("not enough traffic", "not enough traffic")
    assert b"operational" not in page.split(b'data-class="tco"')[1].split(b"</li>")[0]
    assert b"12 of the 20 requests needed to judge; 100.0% of 12 requests failing" in page
    assert b'<span id="min-requests">20</span> requests' in page


def test_after_a_rollback_the_page_says_recovering_and_names_the_rollback() -> None:
    tracker = AvailabilityTracker()
    for second in range(240):
        tracker.record("tco", True, second < 120, float(second))
    alert = BurnRateAlert().evaluate(tracker, 240.0)
    rollback = (120.0, "canary: tco's first-party error rate <100%>")
    document = status_document(tracker, alert, 240.0, "first-party-denials", 0.999, last_rollback=rollback)
    page = render_status_page(document)
    assert parsed(page).banners["configured"] == "recovering"
    assert parsed(page).tiles["tco"][0] == "recovering"
    assert b"Rolled back at 00:02:00 UTC: canary: tco&#x27;s first-party error rate &lt;100%&gt;" in page


def test_a_running_gateway_reports_recovering_after_an_operator_rolls_back() -> None:
    clock = Clock()
    app = gateway(clock)
    change_now(app.deployment.push(compile_plan_set(load_plan_set(BILLING)), reason="test push"))
    for n in range(30):
        assert as_client(app, "tco", "GET", f"/2/links/{n}") == 467
    clock.now += 30
    change_now(app.deployment.rollback(reason="operators roll back"))
    for n in range(30):
        clock.now += 1
        assert as_client(app, "tco", "GET", f"/2/links/{n}") == 301
    document = json.loads(call(app, "GET", "/_gw467/status").body)
    assert document["classes"]["tco"]["status"] == "recovering"
    assert document["recovering"]["reason"] == "operators roll back"
