"""docs/nginx/gw467-auth-request.conf under Debian's nginx, asking a real `gw467 serve` for each decision:
clients see gw467's own status, body and rule (467, 429, 401, 404), and allowed requests reach the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import BILLING, FIXED
from tests.processes import Server, free_port, gw467_serve, nginx, nginx_example
from tests.test_middleware import INCIDENT_BODY

pytestmark = pytest.mark.slow

# The app behind nginx: static files, and a page that shows which gw467 headers reached it.
APP = """
server {{
    listen 127.0.0.1:{app};
    root {root};
    location /2/users/ {{
        default_type text/plain;
        return 200 "client=$http_x_gw467_client class=$http_x_gw467_class plan=$http_x_gw467_plan";
    }}
    location = /2/tweets {{
        return 201 "created";
    }}
    location /2/tweets/ {{
        default_type text/plain;
        return 200 "uri=$request_uri";
    }}
}}
"""


def front(tmp_path: Path, plans: Path) -> Iterator[tuple[Server, Server]]:
    site = tmp_path / "site"
    (site / "2" / "links").mkdir(parents=True)
    (site / "2" / "links" / "t3st").write_bytes(b"the app's own bytes\n")
    app = free_port()
    with gw467_serve(plans, tmp_path, "--no-decision-log") as gateway:
        example = nginx_example(gateway.port, app)
        with nginx(tmp_path, example + APP.format(app=app, root=site)) as proxy:
            yield proxy, gateway


@pytest.fixture
def billing(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    yield from front(tmp_path, BILLING)


@pytest.fixture
def fixed(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    yield from front(tmp_path, FIXED)


def key(client: str) -> dict[str, str]:
    return {"Authorization": f"Bearer gw467-demo-{client}"}


def test_a_denied_request_gets_gw467s_467_and_body_through_nginx(billing: tuple[Server, Server]) -> None:
    proxy, gateway = billing
    denied = httpx.get(f"{proxy.base}/2/links/t3st", headers=key("tco"))
    direct = httpx.get(f"{gateway.base}/2/links/t3st", headers=key("tco"))
    assert denied.status_code == direct.status_code == 467
    assert denied.content == direct.content == INCIDENT_BODY
    assert denied.headers["x-gw467-rule"] == "plan:free/deny"
    assert denied.headers["content-type"] == "application/json; charset=utf-8"

    anonymous = httpx.get(f"{proxy.base}/2/links/t3st")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == 'Bearer realm="gw467"'
    assert anonymous.content == httpx.get(f"{gateway.base}/2/links/t3st").content
    nowhere = httpx.get(f"{proxy.base}/2/nowhere", headers=key("tco"))
    assert (nowhere.status_code, nowhere.headers["x-gw467-rule"]) == (404, "route:none")


def test_an_allowed_request_reaches_the_app_with_who_called(fixed: tuple[Server, Server]) -> None:
    proxy, _ = fixed
    allowed = httpx.get(f"{proxy.base}/2/links/t3st", headers=key("tco"))
    assert allowed.status_code == 200 and allowed.content == b"the app's own bytes\n"
    assert allowed.headers["x-gw467-rule"] == "exempt:first_party"
    seen = httpx.get(f"{proxy.base}/2/users/7/tweets", headers=key("media"))
    assert seen.text == "client=media class=media plan="
    # nginx cannot drop a header family by prefix: gw467's check refuses a forged one instead.
    forged = {**key("media"), "X-Gw467-Client": "web", "X-Gw467-Plan": "enterprise"}
    refused = httpx.get(f"{proxy.base}/2/users/7/tweets", headers=forged)
    assert (refused.status_code, refused.headers["x-gw467-rule"]) == (400, "path:gateway-header")


def test_a_spent_quota_is_429_with_retry_after_through_nginx(fixed: tuple[Server, Server]) -> None:
    proxy, _ = fixed
    with httpx.Client(base_url=proxy.base, headers=key("sunrise-bot")) as client:
        # POST /2/tweets is granted to the free plan, 50 a window.
        answers = [client.post("/2/tweets") for _ in range(51)]
    assert [a.status_code for a in answers] == [201] * 50 + [429]
    assert answers[0].text == "created" and answers[0].headers["x-rate-limit-remaining"] == "49"
    assert answers[0].headers["x-gw467-rule"] == "plan:free/grant:tweets.create"
    limited = answers[-1]
    assert limited.headers["x-gw467-rule"] == "quota:free" and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["errors"][0]["code"] == 88


def test_nginx_fails_closed_when_gw467_is_down(tmp_path: Path) -> None:
    gone = free_port()
    with nginx(tmp_path, nginx_example(gone, free_port())) as proxy:
        answer = httpx.get(f"{proxy.base}/2/links/t3st", headers=key("tco"))
    assert answer.status_code == 503


def test_the_app_behind_nginx_routes_on_the_path_gw467_decided_not_the_clients_spelling(
    fixed: tuple[Server, Server],
) -> None:
    """`/2//TWEETS//12` was decided as `/2/tweets/12`, and the app got the raw URI with its
    empty segments and spelling; now nginx forwards gw467's `x-gw467-path`, and the query."""
    proxy, _ = fixed
    response = httpx.get(f"{proxy.base}/2//TWEETS//12?expansions=x", headers=key("web"), timeout=5)
    assert response.status_code == 200, response.text
    assert response.text == "uri=/2/tweets/12?expansions=x"
