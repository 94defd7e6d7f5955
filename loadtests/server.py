"""A `gw467 serve` subprocess on 127.0.0.1 for a load test: start, wait until it answers, push, stop."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.fronts.settings import ADMIN_TOKEN_VARIABLE

HOST = "127.0.0.1"
# Plain urllib would send loopback requests through an http_proxy from the environment.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerError(RuntimeError):
    """The gateway did not start, or refused an admin call; the message is one line."""


@dataclass(frozen=True)
class Gateway:
    """A running gateway: where it listens, the admin token it was started with, and its process."""

    url: str
    admin_token: str = field(repr=False)
    process: subprocess.Popen[Any] = field(repr=False, compare=False)

    def exit_code(self) -> int | None:
        """None while it runs."""
        return self.process.poll()

    def push_plans(self, plan_file: Path, timeout: float = 10.0) -> str:
        """POST a plan file to the admin API, as a deploy would; returns the version now active."""
        request = urllib.request.Request(
            f"{self.url}/_gw467/admin/plans?mode=direct",
            data=plan_file.read_bytes(),
            method="POST",
            headers={"Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/toml"},
        )
        document = _call(request, timeout)
        return str(document["active"])

    def active_version(self, timeout: float = 2.0) -> str:
        return str(
            _call(urllib.request.Request(f"{self.url}/_gw467/status"), timeout)["deployment"]["active"]
        )


def free_port() -> int:
    """A TCP port free on loopback now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(plans: Path, log: Path, startup_timeout: float = 20.0) -> Iterator[Gateway]:
    """Run `gw467 serve --plans PLANS` on a free loopback port with a fresh admin token; stop it after."""
    port = free_port()
    token = secrets.token_urlsafe(24)
    command = [sys.executable, "-m", "gateway", "serve", "--plans", str(plans)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port)],
            env={**os.environ, ADMIN_TOKEN_VARIABLE: token},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        gateway = Gateway(f"http://{HOST}:{port}", token, process)
        _wait_until_answering(gateway, log, startup_timeout)
        yield gateway
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[Any], grace: float = 0.0, timeout: float = 10.0) -> None:
    """Let it exit on its own for `grace` seconds, then terminate, then kill after `timeout` more."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_answering(gateway: Gateway, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if gateway.exit_code() is not None:
            # gw467 reports a bad start in one line; pass that line on.
            last = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ServerError(f"gw467 serve exited with code {gateway.exit_code()}: {last[0]}")
        try:
            gateway.active_version(timeout=1.0)
            return
        except ServerError:
            if time.monotonic() > deadline:
                raise ServerError(
                    f"gw467 serve did not answer on {gateway.url} within {timeout:.0f} s"
                ) from None
            time.sleep(0.1)


def _call(request: urllib.request.Request, timeout: float) -> dict[str, Any]:
    try:
        with _LOOPBACK.open(request, timeout=timeout) as response:
            document: dict[str, Any] = json.load(response)
            return document
    except urllib.error.HTTPError as error:
        message = error.read().decode("utf-8", "replace").strip().replace("\n", " ")
        raise ServerError(f"{request.get_method()} {request.full_url}: {error.code} {message}") from None
    except OSError as error:
        raise ServerError(f"{request.get_method()} {request.full_url}: {error}") from None
