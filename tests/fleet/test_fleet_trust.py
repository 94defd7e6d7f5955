"""A fleet that does not trust its store, nor its state directory, blindly.

Before: anyone who could write `gw467:fleet:stage` and a plan text (whose SHA-256 they computed)
put any plan in force on every worker within a second, with no admin token and no audit record,
and each worker saved it as its last good version; a `last-good.json` planted in the state
directory was started from ahead of `--plans`. Now the stage is signed with the fleet secret,
and the state directory is private.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import redis as redis_client

from gateway.control_plane.fleet.keys import CHANNEL, PLAN_KEY, STAGE_KEY
from gateway.control_plane.fleet.trust import (
    SECRET_FILE_VARIABLE,
    SECRET_VARIABLE,
    fleet_secret,
    sign,
    signed_document,
    trusted_document,
    verified,
)
from gateway.control_plane.fleet.worker import LAST_GOOD_FILE
from gateway.control_plane.stage_document import StageDocument
from gateway.core.plans import plan_hash
from gateway.stores.private_files import TrustError, private_directory, write_private
from tests.fleet.test_fleet_serve import (
    BASELINE,
    BILLING,
    FIXED,
    SECRET,
    admin,
    deployment,
    fleet,
    wait_converged,
    worker_versions,
)
from tests.processes import RedisServer

ROOT = Path(__file__).resolve().parents[2]


# The secret and the signature.


def test_a_signed_document_verifies_and_any_other_is_refused() -> None:
    document = b'{"generation": 2}'
    signed = sign(document, SECRET)
    assert verified(signed, SECRET) == document
    for forged in (
        document,  # unsigned
        sign(document, b"another-fleets-secret-0123"),  # another secret
        signed.replace(b"2}", b"3}"),  # the document changed after signing
        b"0" * 64 + b"\n" + document,  # a made-up signature
    ):
        with pytest.raises(TrustError):
            verified(forged, SECRET)


def test_the_secret_comes_from_a_private_file_or_the_environment_never_short(tmp_path: Path) -> None:
    secret_file = tmp_path / "fleet.secret"
    secret_file.write_text("a-secret-from-a-file-0123456789\n")
    secret_file.chmod(0o600)
    assert fleet_secret({SECRET_FILE_VARIABLE: str(secret_file)}) == b"a-secret-from-a-file-0123456789"
    assert (
        fleet_secret({SECRET_VARIABLE: "a-secret-from-the-environment"}) == b"a-secret-from-the-environment"
    )
    secret_file.chmod(0o644)
    with pytest.raises(TrustError, match="readable by others"):
        fleet_secret({SECRET_FILE_VARIABLE: str(secret_file)})
    with pytest.raises(TrustError, match="shorter than 16 bytes"):
        fleet_secret({SECRET_VARIABLE: "short"})
    with pytest.raises(TrustError, match="fleet mode needs the fleet secret"):
        fleet_secret({})


# The state directory.


def test_the_state_directory_is_created_private_and_refused_when_others_may_write_it(tmp_path: Path) -> None:
    made = private_directory(tmp_path / "state" / "gw467")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(TrustError, match="writable by others"):
        private_directory(shared)
    link = tmp_path / "link"
    link.symlink_to(made)
    with pytest.raises(TrustError, match="a link is not followed"):
        private_directory(link)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_state_directory_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)  # nobody
    with pytest.raises(TrustError, match="owned by uid 65534"):
        private_directory(theirs)


def test_a_file_of_the_state_directory_is_written_0600_and_never_through_a_planted_link(
    tmp_path: Path,
) -> None:
    directory = private_directory(tmp_path / "state")
    victim = tmp_path / "victim"
    victim.write_text("the gateway user's own file")
    (directory / LAST_GOOD_FILE).symlink_to(victim)
    write_private(directory / LAST_GOOD_FILE, b"{}")
    assert victim.read_text() == "the gateway user's own file"
    written = directory / LAST_GOOD_FILE
    assert not written.is_symlink() and written.read_bytes() == b"{}"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert [path.name for path in directory.iterdir()] == [LAST_GOOD_FILE]


def serve_refusal(tmp_path: Path, *options: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name != SECRET_VARIABLE}
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--plans", str(BASELINE), "--port", "1", *options],
        cwd=tmp_path,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_with_a_store_refuses_in_one_line_without_a_secret_or_with_a_shared_directory(
    tmp_path: Path,
) -> None:
    store = ("--store", "redis://127.0.0.1:1/0")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    without = serve_refusal(tmp_path, *store, "--state-dir", str(tmp_path / "s"), env={})
    assert without.returncode == 2
    assert without.stderr.startswith("gw467 serve: error: fleet mode needs the fleet secret")
    assert without.stderr.count("\n") == 1
    open_dir = serve_refusal(
        tmp_path, *store, "--state-dir", str(shared), env={SECRET_VARIABLE: SECRET.decode()}
    )
    assert open_dir.returncode == 2
    assert open_dir.stderr == (
        f"gw467 serve: error: state directory {shared}: writable by others (mode drwxrwxrwx); "
        f"chmod 700 {shared}\n"
    )


# A real fleet on a real redis-server.


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.slow
def test_a_stage_written_into_redis_without_the_secret_changes_no_worker_and_is_audited(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with fleet(redis_server, tmp_path) as (server,):
        raw = redis_client.Redis.from_url(redis_server.url)
        held = raw.get(STAGE_KEY)
        assert isinstance(held, bytes)
        current = trusted_document(held, SECRET)
        # What finding 2 did: the attacker's plan text under its own hash, and a stage naming it.
        text = BILLING.read_text()
        digest = plan_hash(text)
        raw.set(PLAN_KEY + digest, text)
        forged = replace(current, generation=current.generation + 1, active=digest, who="attacker")
        attempts = {
            forged.encode(): "the stage in the store is not signed",
            signed_document(forged, b"a-guessed-secret-0123456789"): (
                "the stage in the store is not signed with this fleet's secret"
            ),
        }
        for attempt, refusal in attempts.items():
            raw.set(STAGE_KEY, attempt)
            raw.publish(CHANNEL, b"x")

            def every_worker_refused(refusal: str = refusal) -> bool:
                workers = deployment(server)["fleet"]["workers"]
                return len(workers) == 2 and all(
                    (w["refused"] or {}).get("error") == refusal for w in workers
                )

            wait_for(every_worker_refused, f"the workers did not refuse: {refusal}")
        document = deployment(server)
        raw.set(STAGE_KEY, held)  # the real stage back: the fleet goes on as before
        raw.publish(CHANNEL, b"x")
        after = wait_converged(server, 2)
        raw.close()
    assert document["fleet"]["refused"] == "the stage in the store is not signed with this fleet's secret"
    assert {w["version"] for w in document["fleet"]["workers"]} == {"2023-02-baseline"}
    refusals = [entry for entry in after["audit"] if entry["action"] == "refused:stage"]
    assert {entry["reason"] for entry in refusals} == {
        "the stage in the store is not signed",
        "the stage in the store is not signed with this fleet's secret",
    }
    assert worker_versions(after) == {("2023-02-baseline", None, "none")}
    for state in tmp_path.glob("state-*"):
        saved = json.loads((state / LAST_GOOD_FILE).read_text())
        assert list(saved["plans"]) == [plan_hash(BASELINE.read_text())], "the attacker's plan was saved"
        assert stat.S_IMODE((state / LAST_GOOD_FILE).stat().st_mode) == 0o600
        assert stat.S_IMODE(state.stat().st_mode) == 0o700


@pytest.mark.slow
def test_a_last_good_file_planted_in_the_state_directory_is_not_started_from(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    state = private_directory(tmp_path / "state-i0")
    text = BILLING.read_text()
    digest = plan_hash(text)
    planted = StageDocument(7, digest, versions={digest: "2023-03-06-billing"})
    for stage in (
        planted.encode().decode(),
        signed_document(planted, b"a-guessed-secret-0123456789").decode(),
    ):
        (state / LAST_GOOD_FILE).write_text(json.dumps({"stage": stage, "plans": {digest: text}}))
        with fleet(redis_server, tmp_path, workers=1) as (server,):
            document = wait_converged(server, 1)
            log = server.log_text()
        # The empty Redis is seeded from --plans, not from the planted file.
        assert worker_versions(document) == {("2023-02-baseline", None, "none")}
        assert f"{state / LAST_GOOD_FILE}: not used: the stage in the store is not signed" in log
        redis_client.Redis.from_url(redis_server.url).flushall()
    # The fleet's own last good version is started from, as before.
    with fleet(redis_server, tmp_path, workers=1) as (server,):
        assert admin(server, "plans", FIXED.read_bytes(), mode="direct").status_code == 200
        wait_converged(server, 1)
    redis_client.Redis.from_url(redis_server.url).flushall()
    with fleet(redis_server, tmp_path, workers=1) as (server,):
        document = wait_converged(server, 1)
    assert worker_versions(document) == {("2023-03-06-billing-fixed", None, "none")}
