"""The same raw requests, sent over a socket to `gw467 serve` under uvicorn's h11 and httptools
servers: every path trick and header is decided alike, and absolute-form targets work under both."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXED
from tests.processes import free_port, gw467_serve, running

pytestmark = pytest.mark.slow

TCO = b"Authorization: Bearer gw467-demo-tco\r\n"
BOT = b"Authorization: Bearer gw467-demo-sunrise-bot\r\n"

# (what, request target, extra header lines, expected status, expected rule)
CASES = [
    ("canonical", b"/2/links/abc", TCO, 301, b"exempt:first_party"),
    ("respelled", b"//2/LINKS/%61bc/", TCO, 301, b"exempt:first_party"),
    ("absolute form", b"http://127.0.0.1/2/links/abc", TCO, 301, b"exempt:first_party"),
    ("encoded slash", b"/2/links/a%2Fb", TCO, 400, b"path:encoded-slash"),
    ("dot segment", b"/2/links/../links/abc", TCO, 400, b"path:dot-segment"),
    ("double encoding", b"/2/links/%252e", TCO, 400, b"path:double-encoding"),
    ("backslash", b"/2/links\\abc", TCO, 400, b"path:backslash"),
    ("path parameter", b"/2/links/abc;x=1", TCO, 400, b"path:path-parameter"),
    ("UTF-8 value", b"/2/links/jos%C3%A9", TCO, 301, b"exempt:first_party"),
    ("no key", b"/2/links/abc", b"", 401, b"auth:missing"),
    ("two keys", b"/2/links/abc", TCO + BOT, 401, b"auth:ambiguous"),
    (
        "spoofed exemption header",
        b"/2/links/abc",
        BOT + b"X-Internal: true\r\nX-First-Party: 1\r\n",
        467,
        None,
    ),
    ("unknown route", b"/2/nowhere", TCO, 404, b"route:none"),
]


def exchange(port: int, target: bytes, headers: bytes) -> tuple[int, dict[bytes, bytes]]:
    """Send one HTTP/1.1 request exactly as written; the status and headers of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    fields = dict(line.split(b": ", 1) for line in head[1:] if b": " in line)
    return int(head[0].split()[1]), {name.lower(): value for name, value in fields.items()}


@pytest.fixture(scope="module", params=["h11", "httptools"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with gw467_serve(FIXED, tmp_path_factory.mktemp("serve"), "--http", request.param) as running:
        yield running.port


@pytest.mark.parametrize(
    ("what", "target", "headers", "status", "rule"), CASES, ids=[case[0] for case in CASES]
)
def test_a_raw_request_is_decided_alike_under_both_http_implementations(
    server: int, what: str, target: bytes, headers: bytes, status: int, rule: bytes | None
) -> None:
    got, fields = exchange(server, target, headers)
    assert got == status, what
    if rule is not None:
        assert fields.get(b"x-gw467-rule") == rule, what


def test_an_absolute_form_with_userinfo_is_refused_or_reduced_to_its_path_by_the_server(server: int) -> None:
    """h11 passes the whole target and the gateway refuses the userinfo; httptools parses the URL
    and hands over its path only. Either way the decision is taken on the path the app routes on."""
    got, fields = exchange(server, b"http://evil@127.0.0.1/2/links/abc", TCO)
    assert (got, fields.get(b"x-gw467-rule")) in ((400, b"path:not-absolute"), (301, b"exempt:first_party"))


def test_a_fragment_never_reaches_the_app_under_either(server: int) -> None:
    """A '#' in the target: one server drops the fragment, the other passes it whole; either way
    the app never routes on anything but the decided path (README, Paths)."""
    got, fields = exchange(server, b"/2/links/abc#frag", TCO)
    assert (got, fields.get(b"x-gw467-rule")) in ((301, b"exempt:first_party"), (400, b"path:fragment"))


def test_a_key_sent_only_in_a_chunk_trailer_never_authenticates_under_either(server: int) -> None:
    """Stock uvicorn's httptools appends trailer fields to the request's header list, where the
    key authenticated (200 where h11 said 401); `gw467 serve` runs httptools without them."""
    with socket.create_connection(("127.0.0.1", server), timeout=5) as connection:
        connection.sendall(
            b"POST /2/tweets HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n"
            b"Authorization: Bearer gw467-demo-sunrise-bot\r\n\r\n"
        )
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:80]
    assert b"x-gw467-rule: auth:missing" in answer


@pytest.mark.parametrize(
    ("worker", "status"),
    [("uvicorn.workers.UvicornWorker", b"201"), ("gateway.fronts.trailers.HeadOnlyUvicornWorker", b"401")],
)
def test_under_gunicorn_the_head_only_worker_keeps_a_trailer_key_from_authenticating(
    tmp_path: Path, worker: str, status: bytes
) -> None:
    """The app factory under gunicorn: uvicorn's own worker lets a trailer-only key authenticate
    (the finding, kept here as the reason the class exists); ours answers 401."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-k", worker, "-w", "1", "-b", f"127.0.0.1:{port}"]
    env = {"GW467_PLANS": str(FIXED), "GW467_DECISION_LOG": "0", "HOME": str(tmp_path)}
    log = tmp_path / "gunicorn.log"
    with (
        running([*command, "gateway.fronts.app:create_app()"], port, log, env),
        socket.create_connection(("127.0.0.1", port), timeout=5) as connection,
    ):
        connection.sendall(
            b"POST /2/tweets HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n"
            b"Authorization: Bearer gw467-demo-sunrise-bot\r\n\r\n"
        )
        answer = connection.recv(65536)
    assert answer.split(b" ", 2)[1] == status, answer[:200]
