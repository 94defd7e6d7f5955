"""The fleet's Redis with a password and TLS, as the README says to run it: the password from a
file (never the command line), the server's certificate checked against a CA, and no password in
any message. A real redis-server with `requirepass` and a TLS port, certificates made by openssl.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis as redis_client

from gateway.stores.redis_store import CA_FILE_VARIABLE, NAMESPACE_VARIABLE, PASSWORD_FILE_VARIABLE, redact
from tests.fleet.test_fleet_serve import ADMIN, BASELINE, FIXED, TOKEN, wait_converged
from tests.processes import REDIS_SERVER, RedisServer, free_port, gw467_serve

pytestmark = pytest.mark.slow

OPENSSL = shutil.which("openssl")
PASSWORD = "a-redis-password-nobody-may-see"


def openssl(directory: Path, *args: str) -> None:
    assert OPENSSL is not None, "these tests need Debian's openssl"
    subprocess.run([OPENSSL, *args], cwd=directory, check=True, capture_output=True, timeout=60)


@pytest.fixture
def secured_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """redis-server on a TLS port only, with a password; yields the port and the CA file."""
    directory = tmp_path / "redis"
    directory.mkdir()
    openssl(directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=gw467 test CA")  # fmt: skip
    openssl(directory, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1")  # fmt: skip
    (directory / "san").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(directory, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san")  # fmt: skip
    port = free_port()
    config = directory / "redis.conf"
    config.write_text(
        f'port 0\ntls-port {port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir {directory}\n'
        "tls-cert-file server.crt\ntls-key-file server.key\ntls-ca-cert-file ca.crt\n"
        f"tls-auth-clients no\nrequirepass {PASSWORD}\n"
    )
    config.chmod(0o600)
    assert REDIS_SERVER is not None
    with (directory / "redis.log").open("ab") as log:
        process = subprocess.Popen([REDIS_SERVER, str(config)], cwd=directory, stdout=log, stderr=log)
    try:
        time.sleep(0.5)
        assert process.poll() is None, (directory / "redis.log").read_text()
        yield port, directory / "ca.crt"
    finally:
        process.terminate()
        process.wait(timeout=10)


def password_file(tmp_path: Path, password: str) -> Path:
    path = tmp_path / "redis.password"
    path.write_text(password + "\n")
    path.chmod(0o600)
    return path


def test_a_fleet_on_redis_with_a_password_file_and_tls_converges(
    secured_redis: tuple[int, Path], tmp_path: Path
) -> None:
    port, ca = secured_redis
    env = {
        "GW467_ADMIN_TOKEN": TOKEN,
        PASSWORD_FILE_VARIABLE: str(password_file(tmp_path, PASSWORD)),
        CA_FILE_VARIABLE: str(ca),
    }
    store = f"rediss://127.0.0.1:{port}/0"
    options = ("--workers", "2", "--store", store, "--state-dir", str(tmp_path / "state"))
    with gw467_serve(BASELINE, tmp_path, *options, "--no-decision-log", env=env) as server:
        document = wait_converged(server, 2)
        status = httpx.get(f"{server.base}/_gw467/admin/deployment", headers=ADMIN, timeout=5).text
        log = server.log_text()
    assert {w["store_available"] for w in document["workers"]} == {True}
    assert PASSWORD not in status and PASSWORD not in log


def test_a_wrong_password_leaves_the_store_unavailable_and_is_never_shown(
    secured_redis: tuple[int, Path], tmp_path: Path
) -> None:
    port, ca = secured_redis
    env = {
        "GW467_ADMIN_TOKEN": TOKEN,
        PASSWORD_FILE_VARIABLE: str(password_file(tmp_path, "not-the-password")),
        CA_FILE_VARIABLE: str(ca),
    }
    options = ("--store", f"rediss://127.0.0.1:{port}/0", "--state-dir", str(tmp_path / "state"))
    with gw467_serve(BASELINE, tmp_path, *options, "--no-decision-log", env=env) as server:
        deployment = httpx.get(f"{server.base}/_gw467/admin/deployment", headers=ADMIN, timeout=5).json()
        log = server.log_text()
    assert deployment["fleet"]["available"] is False
    assert "not-the-password" not in log and "not-the-password" not in str(deployment)


def test_a_password_in_the_store_url_is_refused_and_not_echoed(tmp_path: Path) -> None:
    store = f"redis://:{PASSWORD}@127.0.0.1:6379/0"
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--plans", str(BASELINE), "--store", store],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert PASSWORD not in done.stderr
    assert "no password in the URL" in done.stderr
    assert redact(f"rediss://user:{PASSWORD}@host:1/0?ssl_ca_certs=x") == "rediss://host:1/0"


def test_two_fleets_with_their_own_namespaces_share_one_redis(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    servers = []
    with ExitStack() as stack:
        for name, plans in (("blue", BASELINE), ("green", FIXED)):
            env = {"GW467_ADMIN_TOKEN": TOKEN, NAMESPACE_VARIABLE: f"fleet-{name}"}
            options = ("--store", redis_server.url, "--state-dir", str(tmp_path / f"state-{name}"))
            servers.append(stack.enter_context(gw467_serve(plans, tmp_path, *options, env=env)))
        blue, green = (wait_converged(server, 1) for server in servers)
    assert blue["active"] == "2023-02-baseline" and green["active"] == "2023-03-06-billing-fixed"
    keys: list[bytes] = redis_client.Redis.from_url(redis_server.url).keys("*")  # type: ignore[assignment]
    assert {key.split(b":")[0] for key in keys} == {b"fleet-blue", b"fleet-green"}
