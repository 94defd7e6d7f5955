"""`gw467 admin` against a real `gw467 serve` with GW467_ADMIN_TOKEN: every action, and one line per error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from gateway.cli.main import main
from tests.conftest import BILLING, FIXED
from tests.processes import Server, free_port, gw467_serve

pytestmark = pytest.mark.slow
TOKEN = "adm1n-t0ken"
TCO = {"Authorization": "Bearer gw467-demo-tco"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("admin")
    with gw467_serve(BILLING, tmp, "--no-decision-log", env={"GW467_ADMIN_TOKEN": TOKEN}) as running:
        yield running


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW467_ADMIN_TOKEN", TOKEN)


def admin(
    capsys: pytest.CaptureFixture[str], server: Server, action: str, *args: str
) -> tuple[int, str, str]:
    code = main(["admin", action, "--url", server.base, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def tco_status(server: Server) -> int:
    return httpx.get(f"{server.base}/2/links/t3st", headers=TCO, follow_redirects=False).status_code


def test_push_rollback_shadow_promote_canary_and_dump_drive_the_running_gateway(
    capsys: pytest.CaptureFixture[str], server: Server, tmp_path: Path
) -> None:
    code, out, _ = admin(capsys, server, "dump")
    assert (code, out) == (EXIT_OK, BILLING.read_text())  # the file in force, byte for byte

    code, out, _ = admin(capsys, server, "push", str(FIXED))
    assert code == EXIT_OK and json.loads(out)["events"][-1]["action"] == "push:direct"
    assert tco_status(server) == 301
    dumped = tmp_path / "in-force.toml"
    assert admin(capsys, server, "dump", "--output", str(dumped))[0] == EXIT_OK
    assert dumped.read_text() == FIXED.read_text()

    assert admin(capsys, server, "rollback")[0] == EXIT_OK
    assert tco_status(server) == 467

    code, out, _ = admin(capsys, server, "shadow", str(FIXED))
    assert code == EXIT_OK and json.loads(out)["mode"] == "shadow"
    assert admin(capsys, server, "dump", "--candidate")[1] == FIXED.read_text()
    assert tco_status(server) == 467  # a shadow enforces nothing
    code, out, _ = admin(capsys, server, "deployment")
    assert json.loads(out)["shadow"]["divergent"] == 1  # the tco request above: 467 now, 301 with FIXED
    assert admin(capsys, server, "promote")[0] == EXIT_OK
    assert tco_status(server) == 301

    code, out, _ = admin(capsys, server, "canary", str(BILLING), "--fraction", "0.5", "--unit", "request")
    assert code == EXIT_OK and json.loads(out)["mode"] == "canary"
    assert json.loads(out)["canary"]["fraction"] == 0.5
    assert admin(capsys, server, "rollback")[0] == EXIT_OK  # drops the candidate
    code, out, _ = admin(capsys, server, "status")
    assert code == EXIT_OK and json.loads(out)["deployment"]["mode"] == "none"


def test_promote_with_nothing_to_promote_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], server: Server
) -> None:
    code, out, err = admin(capsys, server, "promote")
    assert (code, out) == (EXIT_FAILED, "")
    assert err == (
        "gw467 admin: error: promote: nothing to promote: no candidate in shadow or canary (HTTP 409)\n"
    )


def test_a_wrong_token_a_missing_token_variable_and_a_bad_file_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "x"\n[[endpoints]]\nid = 3\n')
    code, _, err = admin(capsys, server, "push", str(bad))
    # The file's six problems (a wrong id type, four missing keys...), a line each.
    assert code == EXIT_USAGE and len(err.splitlines()) == 6
    assert all(line.startswith(f"gw467: error: {bad}: ") for line in err.splitlines())
    code, _, err = admin(capsys, server, "deployment", "--token-env", "GW467_NO_SUCH_VARIABLE")
    assert code == EXIT_USAGE
    assert err == "gw467 admin: error: $GW467_NO_SUCH_VARIABLE is not set (it holds the admin token)\n"
    monkeypatch.setenv("GW467_ADMIN_TOKEN", "wrong")
    code, _, err = admin(capsys, server, "deployment")
    assert code == EXIT_USAGE
    assert err == "gw467 admin: error: deployment: admin API: missing or wrong bearer token (HTTP 401)\n"


def test_an_unreachable_gateway_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["admin", "deployment", "--url", f"http://127.0.0.1:{free_port()}"])
    err = capsys.readouterr().err
    assert code == EXIT_FAILED and err.count("\n") == 1
    assert err.startswith("gw467 admin: error: cannot reach http://127.0.0.1:")


def test_push_without_a_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["admin", "push", "--url", "http://127.0.0.1:1"]) == EXIT_USAGE
    assert capsys.readouterr().err.count("\n") == 1
