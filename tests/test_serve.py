"""`gw467 serve` under uvicorn on 127.0.0.1: the incident's 467, byte for byte, over real HTTP."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import BILLING, FIXED
from tests.test_middleware import INCIDENT_BODY

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(plans: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--plans", str(plans), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    assert process.stderr is not None
                    raise RuntimeError(f"gw467 serve did not start: {process.stderr.read()!r}") from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_billing_plan_served_by_uvicorn_answers_tco_with_the_exact_467_body() -> None:
    with serving(BILLING) as base:
        response = httpx.get(f"{base}/2/links/t3st", headers={"Authorization": "Bearer gw467-demo-tco"})
    assert response.status_code == 467
    assert response.content == INCIDENT_BODY
    assert response.headers["x-gw467-rule"] == "plan:free/deny"


def test_fixed_plan_served_by_uvicorn_forwards_tco_to_the_upstream() -> None:
    with serving(FIXED) as base:
        response = httpx.get(
            f"{base}/2/links/t3st", headers={"Authorization": "Bearer gw467-demo-tco"}, follow_redirects=False
        )
        raw_dots = raw_request(
            base, b"GET /2/links/%2e%2e HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer gw467-demo-tco\r\n\r\n"
        )
    assert response.status_code == 301
    assert response.headers["location"] == "https://example.org/a/t3st"
    assert raw_dots.startswith(b"HTTP/1.1 400")


def raw_request(base: str, request: bytes) -> bytes:
    """Send bytes as they are (HTTP clients would normalize the path first)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request)
        return connection.recv(65536)


def test_serve_refuses_a_bad_plan_file_with_a_line_per_problem_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 1\n")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--plans", str(bad), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    # version is not a string; plans, endpoints and clients are missing: a line each.
    lines = done.stderr.splitlines()
    assert len(lines) == 4 and all(line.startswith(f"gw467: error: {bad}: ") for line in lines)


def test_serve_refuses_the_admin_api_with_several_workers(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--plans", str(FIXED), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "GW467_ADMIN_TOKEN": "a-token-for-the-test"},
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "the gw467 admin API needs one process or a shared store, and --workers is 2:" in done.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_says_where_it_listens_once_it_answers(workers: int) -> None:
    port = free_port()
    command = [sys.executable, "-m", "gateway", "serve", "--plans", str(BILLING), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers), "--no-decision-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "no line on stdout within 30 s"
        line = process.stdout.readline().decode()
        assert line == f"gw467: listening on http://127.0.0.1:{port} (Ctrl-C to stop)\n"
        # Said once it answers: the first request after the line is served, not refused.
        response = httpx.get(
            f"http://127.0.0.1:{port}/2/links/t3st", headers={"Authorization": "Bearer gw467-demo-tco"}
        )
        assert response.status_code == 467
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.stdout.read() == b"", "the line is printed once"
