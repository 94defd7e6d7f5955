"""Real servers for the tests that need one: `gw467 serve`, nginx and redis-server, on free loopback ports.

Each runs as a child process with its log in a file the test can read while it runs, and is
ended (SIGTERM, then waited for) when the `with` block ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Debian's nginx and redis-server (/usr/sbin is not on every user's PATH); .ci/run installs them
# when missing.
NGINX = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
REDIS_SERVER = shutil.which("redis-server", path="/usr/bin:/usr/local/bin:/usr/sbin")


class RedisServer:
    """Debian's redis-server without persistence: a restart comes back empty, as a lost node would."""

    def __init__(self, directory: Path) -> None:
        assert REDIS_SERVER is not None, (
            "the fleet tests need Debian's redis-server: apt-get install redis-server"
        )
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        log = (self.directory / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, kill: bool = False) -> None:
        process = self.process
        if process is None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        process.wait(timeout=10)
        self.process = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text()

    def wait_for_log(self, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while text not in (found := self.log_text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in the log:\n{found}")
            time.sleep(0.05)
        return found


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()}") from None
            time.sleep(0.05)


@contextmanager
def running(command: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    try:
        _wait_until_listening(port, process, log)
        yield Server(f"http://127.0.0.1:{port}", port, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def gw467_serve(
    plans: Path | str, tmp_path: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "gateway", "serve", "--plans", str(plans), "--port", str(port), *options]
    with running(command, port, tmp_path / f"gw467-{port}.log", env) as server:
        yield server


NGINX_EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "nginx" / "gw467-auth-request.conf"


def nginx_example(gateway_port: int, app_port: int) -> str:
    """docs/nginx/gw467-auth-request.conf, listening where `nginx` puts it (`{port}`) and asking
    the gw467 on `gateway_port` for the app on `app_port`; nothing else changed."""
    return (
        NGINX_EXAMPLE.read_text()
        .replace("listen 127.0.0.1:8080;", "listen 127.0.0.1:{port};")
        .replace("127.0.0.1:8467", f"127.0.0.1:{gateway_port}")
        .replace("127.0.0.1:9000", f"127.0.0.1:{app_port}")
    )


@contextmanager
def nginx(tmp_path: Path, server_block: str) -> Iterator[Server]:
    """nginx in the foreground with `server_block` (which must `listen 127.0.0.1:{port}`, formatted
    here) and every path it writes under `tmp_path`."""
    assert NGINX is not None, "these tests need Debian's nginx: apt-get install nginx"
    port = free_port()
    root = tmp_path / f"nginx-{port}"
    (root / "temp").mkdir(parents=True)
    config = root / "nginx.conf"
    # As root, nginx's workers would drop to `nobody`, who cannot read a test's private tmp_path.
    user = "user root;" if os.geteuid() == 0 else ""
    config.write_text(
        f"""daemon off;
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/temp/body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    {server_block.replace("{port}", str(port))}
}}
"""
    )
    command = [NGINX, "-p", str(root), "-c", str(config), "-e", str(root / "error.log")]
    with running(command, port, root / "stdout.log") as server:
        yield server
