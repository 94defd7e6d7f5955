"""`gw467 verify OLD NEW`: every invariant on a user's two plan files, with counterexamples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.verification.verify import verify
from tests.conftest import BASELINE, BILLING, FIXED


def test_verify_fails_the_billing_change_with_a_first_party_counterexample(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["verify", str(BASELINE), str(BILLING), "--examples", "30"]) == 1
    out = capsys.readouterr().out
    assert "FAILED first-party regression" in out
    assert "counterexample: first-party client 'web' (class web) loses 'links.resolve'" in out
    assert "1 of 6 invariants broken" in out


def test_verify_passes_the_fixed_change(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(BASELINE), str(FIXED), "--examples", "30"]) == 0
    assert "all invariants hold" in capsys.readouterr().out


def test_verify_json_lists_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(BASELINE), str(BILLING), "--examples", "10", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in report["checks"]] == [
        "first-party regression",
        "tier monotonicity",
        "compiled == reference",
        "path encodings",
        "exemption vs headers",
        "headers and other requests",
    ]
    assert [c["passed"] for c in report["checks"]] == [False, True, True, True, True, True]


def test_verify_reports_a_tier_that_grants_less_than_the_one_below(tmp_path: Path) -> None:
    narrowed = tmp_path / "narrow-basic.toml"
    text = FIXED.read_text()
    start = text.index("[plans.basic]")
    end = text.index("[plans.enterprise]")
    narrowed.write_text(
        text[:start]
        + '[plans.basic]\ntier = 1\ngrants = [{ endpoints = ["tweets.*", "users.*"] }]\n\n'
        + text[end:]
    )
    results = {r.name: r for r in verify(FIXED, narrowed, examples=10)}
    tier = results["tier monotonicity"]
    assert not tier.passed
    assert (
        tier.counterexample is not None and "plan 'basic' (higher tier) does not grant" in tier.counterexample
    )


def test_verify_of_a_malformed_file_is_a_line_per_problem_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 3\n")
    assert main(["verify", str(BASELINE), str(bad)]) == 2
    lines = capsys.readouterr().err.splitlines()
    # version is not a string; plans, endpoints and clients are missing.
    assert len(lines) == 4 and all(line.startswith(f"gw467: error: {bad}: ") for line in lines)
