"""The status document as a web page: content negotiation, tiles under both SLIs, escaping."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.serving.slo import AvailabilityTracker, BurnRateAlert, status_document
from gateway.serving.status_page import render_status_page, wants_html
from tests.conftest import BILLING
from tests.test_control import as_client, call, gateway

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
    app.gateway.push(compile_plan_set(load_plan_set(BILLING)), reason="test push")
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
