"""The gw467 command line: outputs, exit codes, and one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli.main import main
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
    assert done.stderr.count("\n") == 1


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
