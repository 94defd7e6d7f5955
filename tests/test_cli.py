"""The gw467 command line: outputs, exit codes, and one-line errors without tracebacks."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import gateway
from gateway.cli.main import main
from gateway.core.shipped import shipped_directory
from tests.conftest import BASELINE, BILLING, FIXED


def test_check_prints_ok_and_a_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BILLING)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ok {BILLING}: version 2023-03-06-billing; 40 endpoints")
    assert "exempt: none; default plan: free" in out
    assert out.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "file is empty"),
        ('version = "x"\n[plans.free\n', ":2:"),
        (
            BILLING.read_text().replace('plan = "basic"', 'plan = "gold"'),
            "clients.pollster-analytics.plan: unknown plan 'gold'",
        ),
        (
            BILLING.read_text().replace('path = "/2/links/{code}"', 'path = "2/links/{code}"'),
            "endpoints[0] (id 'links.resolve').path",
        ),
    ],
)
def test_check_refuses_malformed_files_with_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    assert main(["check", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"gw467: error: {bad}")
    assert expected in captured.err


def test_check_of_a_malformed_file_prints_no_traceback_from_a_real_process(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "x"\nendpoints = 3\n')
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "check", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    # Three problems (endpoints is not a list; plans and clients are missing), a line each.
    lines = done.stderr.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"gw467: error: {bad}: ") for line in lines)


def test_usage_errors_are_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--plans", str(FIXED), "GET", "/2/tweets/1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "one of the arguments --client --key is required" in err


def test_explain_shows_the_forgotten_exemption_and_the_deny_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--plans", str(BILLING), "--client", "tco", "GET", "/2/links/abc"]) == 0
    out = capsys.readouterr().out
    assert "policy.exempt = []: nothing exempts tco" in out
    assert "policy.default_plan = 'free'" in out
    assert "answered 467 by the gateway" in out
    assert "rule plan:free/deny" in out


def test_explain_with_a_key_never_prints_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    key = "gw467-demo-web"
    assert main(["explain", "--plans", str(FIXED), "--key", key, "GET", "/2/Tweets/12/"]) == 0
    out = capsys.readouterr().out
    assert key not in out
    assert "forwarded to the upstream as /2/tweets/12" in out
    assert "rule exempt:first_party" in out


def test_explain_json_gives_status_rule_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "explain",
            "--plans",
            str(FIXED),
            "--client",
            "sunrise-bot",
            "--format",
            "json",
            "GET",
            "/2/tweets/1",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == 467
    assert report["rule"] == "plan:free/deny"
    assert [step["step"] for step in report["steps"]] == [
        "path",
        "client",
        "endpoint",
        "exemption",
        "plan",
        "grant",
    ]


def test_explain_with_an_unknown_client_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--plans", str(FIXED), "--client", "nobody", "GET", "/2/tweets/1"]) == 2
    assert "'nobody' is not a client" in capsys.readouterr().err


def test_explain_of_a_refused_path_stops_at_the_path_step(capsys: pytest.CaptureFixture[str]) -> None:
    main(["explain", "--plans", str(FIXED), "--client", "web", "--format", "json", "GET", "/2/tweets/%2F"])
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == 400
    assert [step["step"] for step in report["steps"]] == ["path"]


def test_matrix_json_marks_first_party_cells_lost_under_the_billing_plan(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["matrix", str(BILLING), "--against", str(BASELINE), "--format", "json"]) == 0
    matrix = json.loads(capsys.readouterr().out)
    tco = next(row for row in matrix["clients"] if row["client"] == "tco")
    assert tco["cells"]["links"]["label"] == "467"
    assert tco["cells"]["links"]["changed"] is True
    assert "links.resolve" in tco["cells"]["links"]["lost"]


def test_matrix_table_shows_the_outage_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", str(BILLING), "--against", str(BASELINE)]) == 0
    out = capsys.readouterr().out
    assert "2023-03-06-billing" in out
    assert "467 ▼" in out


def test_version_is_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as leaving:
        main(["--version"])
    assert leaving.value.code == 0
    assert capsys.readouterr().out == f"gw467 {version('gw467')}\n"
    assert gateway.__version__ == version("gw467")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # pytest's Ctrl-C, given back


def test_bare_gw467_prints_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: gw467 [-h] [--version] [--max-problems N] COMMAND ...")
    assert all(f"    {command} " in out for command in ("serve", "check", "explain", "replay", "diff"))


@pytest.mark.parametrize(
    ("plans", "flags", "code"),
    [
        (BILLING, ["--exit-code"], 1),
        (FIXED, ["--exit-code"], 0),
        (BILLING, ["--exit-code", "--format", "json"], 1),
        (BILLING, [], 0),
    ],
)
def test_explain_exit_code_is_0_when_forwarded_and_1_when_refused_only_when_asked(
    capsys: pytest.CaptureFixture[str], plans: Path, flags: list[str], code: int
) -> None:
    assert main(["explain", "--plans", str(plans), "--client", "tco", "GET", "/2/links/abc", *flags]) == code
    assert capsys.readouterr().err == ""


def test_a_shipped_plan_file_is_found_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "2023-03-06-billing"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"ok {shipped_directory('plans') / '2023-03-06-billing.toml'}: version 2023-03-06-billing"
    )


def test_a_shipped_scenario_is_found_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traffic", "2023-03-06-error-467"]) == 0
    assert '"client": "tco"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["check", "2023-02-basline"],
            "gw467 check: error: argument FILE: 2023-02-basline: no such file, nor a shipped plan file "
            "of that name (2023-02-baseline, 2023-03-06-billing, 2023-03-06-billing-fixed)",
        ),
        (
            ["replay", "error-467"],
            "gw467 replay: error: argument SCENARIO: error-467: no such file, nor a shipped scenario "
            "of that name (2019-07-11-technically-wrong, 2023-03-06-error-467, 2023-03-06-fixed, "
            "2023-03-06-ringed-rollout)",
        ),
        (
            ["serve", "--plans", "2023-02-baseline", "--log-level", "bogus"],
            "gw467 serve: error: argument --log-level: invalid choice: 'bogus' (choose from 'critical', "
            "'error', 'warning', 'info', 'debug', 'trace')",
        ),
    ],
)
def test_an_unknown_name_or_choice_is_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1


def test_serve_on_a_busy_port_is_one_line_with_exit_2_before_uvicorn_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert main(["serve", "--plans", str(FIXED), "--port", str(port)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"gw467 serve: error: 127.0.0.1:{port} is already in use (another server?); "
        "stop it or choose another --port\n"
    )
    assert captured.out == ""


def test_serve_on_an_address_that_is_not_here_is_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
    assert main(["serve", "--plans", str(FIXED), "--host", "192.0.2.1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gw467 serve: error: cannot listen on 192.0.2.1:8467: ") and err.count("\n") == 1


def test_without_the_cli_extra_gw467_says_what_to_install_in_one_line() -> None:
    # As after `pip install gw467` without [cli]: importing rich fails (None in sys.modules).
    # --version and check need the core only; a command that needs rich names the extra.
    without_rich = (
        "import sys; sys.modules['rich'] = None; sys.argv[1:] = sys.argv[1:]\n"
        "from gateway.cli.launch import main; raise SystemExit(main())"
    )

    def gw467(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", without_rich, *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    assert gw467("--version").returncode == 0
    done = gw467("diff", "plans/2023-02-baseline.toml", "plans/2023-03-06-billing.toml")
    assert done.returncode == 2
    assert done.stderr == (
        "gw467: error: gw467 diff needs rich, which is not installed: pip install 'gw467[cli]'\n"
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--min-requests", "0"], "gw467 serve: error: --min-requests 0 must be at least 1\n"),
        (
            ["--status-access", "token"],
            "gw467 serve: error: --status-access token needs GW467_STATUS_TOKEN or GW467_ADMIN_TOKEN "
            "set in the environment\n",
        ),
        (
            ["--rule-header", "none"],
            "gw467 serve: error: argument --rule-header: invalid choice: 'none' (choose from 'all', "
            "'refusals') (see gw467 serve --help)\n",
        ),
    ],
)
def test_serve_status_options_are_checked_in_one_line_with_exit_2_before_uvicorn_starts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, options: list[str], expected: str
) -> None:
    monkeypatch.delenv("GW467_STATUS_TOKEN", raising=False)
    monkeypatch.delenv("GW467_ADMIN_TOKEN", raising=False)
    assert main(["serve", "--plans", str(FIXED), *options]) == 2
    assert capsys.readouterr().err == expected


def file_with_problems(tmp_path: Path, count: int) -> Path:
    """A plan file whose clients name `count` unknown plans: `count` problems, one per client."""
    bad = tmp_path / "many.toml"
    document = FIXED.read_text()
    clients = "".join(
        f'\n[clients.extra{n}]\nclass = "third_party"\nfirst_party = false\n'
        f'key = "gw467-extra-key-{n}"\nplan = "gold{n}"\n'
        for n in range(count)
    )
    bad.write_text(document + clients)
    return bad


def test_every_problem_of_a_file_is_a_line_up_to_20_then_how_many_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = file_with_problems(tmp_path, 25)
    assert main(["check", str(bad)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 21
    assert all(line.startswith(f"gw467: error: {bad}: clients.extra") for line in lines[:20])
    assert [line.split(": ")[3] for line in lines[:20]] == [f"clients.extra{n}.plan" for n in range(20)]
    assert lines[20] == "gw467: error: 5 more problems; --max-problems to see them"


@pytest.mark.parametrize("where", ["before", "after"])
def test_max_problems_shows_more_before_or_after_the_command(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = file_with_problems(tmp_path, 25)
    option = ["--max-problems", "30"]
    argv = [*option, "check", str(bad)] if where == "before" else ["check", str(bad), *option]
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 25 and "more problem" not in lines[-1]


def test_no_more_line_when_the_problems_fit_the_cap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--max-problems", "2", "check", str(file_with_problems(tmp_path, 2))]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 2


def test_max_problems_must_be_a_positive_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(FIXED), "--max-problems", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--max-problems" in err
