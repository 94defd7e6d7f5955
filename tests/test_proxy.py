"""`gw467 serve --upstream` in front of Debian's nginx serving static files: 467 for a denied
request, the upstream's bytes for an allowed one, streamed both ways, hop-by-hop headers dropped."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx
import pytest
from starlette.types import Message

from gateway.fronts.proxy import ReverseProxy
from gateway.fronts.settings import UpstreamError, parse_upstream
from tests.conftest import FIXED
from tests.processes import free_port, gw467_serve, nginx, running
from tests.test_middleware import INCIDENT_BODY

MEDIA = {"Authorization": "Bearer gw467-demo-media"}
BOT = {"Authorization": "Bearer gw467-demo-sunrise-bot"}

STATIC = """
server {{
    listen 127.0.0.1:{{port}};
    root {root};
    location /2/users/ {{
        default_type text/plain;
        set $seen "xff=$http_x_forwarded_for proto=$http_x_forwarded_proto fhost=$http_x_forwarded_host";
        set $seen "$seen host=$http_host client=$http_x_gw467_client class=$http_x_gw467_class";
        return 200 "$seen plan=$http_x_gw467_plan te=$http_te uri=$request_uri";
    }}
}}
"""


@pytest.mark.slow
def test_gw467_in_front_of_nginx_denies_with_467_and_passes_allowed_bytes_exactly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "2" / "media").mkdir(parents=True)
    payload = os.urandom(3 * 1024 * 1024 + 7)  # several chunks: the response is streamed through
    (site / "2" / "media" / "pic.bin").write_bytes(payload)
    with (
        nginx(tmp_path, STATIC.format(root=site)) as upstream,
        gw467_serve(FIXED, tmp_path, "--upstream", upstream.base, "--no-decision-log") as gateway,
    ):
        denied = httpx.get(f"{gateway.base}/2/media/pic.bin", headers=BOT)
        allowed = httpx.get(f"{gateway.base}/2/media/pic.bin", headers=MEDIA)
        direct = httpx.get(f"{upstream.base}/2/media/pic.bin")
        echoed = httpx.get(
            f"{gateway.base}/2/users/7/tweets?max=5",
            headers={
                **MEDIA,
                "X-Gw467-Client": "web",  # forged: the gateway's own value replaces it
                "X-Forwarded-For": "198.51.100.9",  # the client's claim: replaced by the peer
                "TE": "trailers",
                "Connection": "TE",
            },
        )
    assert denied.status_code == 467 and denied.content == INCIDENT_BODY
    assert allowed.status_code == 200 and allowed.content == payload
    assert allowed.headers["x-gw467-rule"] == "exempt:first_party"
    for name in ("content-type", "etag", "last-modified", "content-length"):
        assert allowed.headers[name] == direct.headers[name]
    assert echoed.status_code == 200
    assert echoed.text == (
        f"xff=127.0.0.1 proto=http fhost=127.0.0.1:{gateway.port} "
        f"host=127.0.0.1:{upstream.port} client=media class=media plan= te= uri=/2/users/7/tweets?max=5"
    )


def test_an_absent_upstream_is_502_with_one_line() -> None:
    proxy = ReverseProxy(f"http://127.0.0.1:{free_port()}")
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/x",
        "raw_path": b"/x",
        "query_string": b"",
        "headers": [],
    }
    asyncio.run(proxy(scope, receive, send))
    start, body = sent
    assert start["status"] == 502
    assert body["body"] == b'{"errors":[{"message":"upstream unreachable: ConnectError"}]}'


@pytest.mark.parametrize("url", ["ftp://host", "127.0.0.1:9000", "http://", "http://h/?q=1"])
def test_an_unusable_upstream_url_is_refused_with_what_is_wrong(url: str) -> None:
    with pytest.raises(UpstreamError, match=r"URL|query"):
        parse_upstream(url)


def test_a_base_path_on_the_upstream_url_is_kept_without_its_trailing_slash() -> None:
    assert parse_upstream("http://127.0.0.1:9000/api/") == ("http://127.0.0.1:9000", "/api")


UPSTREAM_APP = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def media(request):
    return PlainTextResponse("from the upstream")


app = Starlette(routes=[Route("/2/media/{name}", media)])
"""


def exchange(base: str, request: bytes) -> bytes:
    """The whole response to `request` (which asks the server to close), as sent on the wire."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def header_lines(response: bytes, name: bytes) -> list[bytes]:
    head = response.partition(b"\r\n\r\n")[0]
    return [line for line in head.split(b"\r\n")[1:] if line.lower().startswith(name + b":")]


@pytest.mark.slow
def test_an_upstream_under_uvicorn_answers_through_gw467_with_one_server_and_one_date(tmp_path: Path) -> None:
    (tmp_path / "upstream_app.py").write_text(UPSTREAM_APP)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "upstream_app:app",
        "--app-dir",
        str(tmp_path),
        "--port",
        str(port),
    ]
    with (
        running(command, port, tmp_path / "upstream.log") as upstream,
        gw467_serve(FIXED, tmp_path, "--upstream", upstream.base, "--no-decision-log") as gateway,
    ):
        direct = exchange(upstream.base, b"GET /2/media/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        request = (
            b"GET /2/media/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\n\r\n"
        )
        allowed = exchange(gateway.base, request % MEDIA["Authorization"].split()[1].encode())
        denied = exchange(gateway.base, request % BOT["Authorization"].split()[1].encode())
    # The upstream does send its own: without care there would be two of each.
    assert header_lines(direct, b"server") == [b"server: uvicorn"] and len(header_lines(direct, b"date")) == 1
    assert allowed.startswith(b"HTTP/1.1 200") and allowed.endswith(b"from the upstream")
    assert denied.startswith(b"HTTP/1.1 467")
    for response in (allowed, denied):
        assert len(header_lines(response, b"server")) == 1, response
        assert len(header_lines(response, b"date")) == 1, response
