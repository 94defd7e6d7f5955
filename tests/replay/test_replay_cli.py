"""`gw467 replay`: deterministic JSON, the chart, the timeline, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli.main import main
from tests.replay.conftest import short_scenario


def test_two_runs_with_the_same_seed_write_byte_identical_json(tmp_path: Path) -> None:
    scenario = short_scenario(tmp_path)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["replay", str(scenario), "--json", str(first)]) == 0
    assert main(["replay", str(scenario), "--json", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert main(["replay", str(scenario), "--seed", "99", "--json", str(second)]) == 0
    assert first.read_bytes() != second.read_bytes()


def test_json_record_holds_events_minutes_counts_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(short_scenario(tmp_path)), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["seed"] == 7
    assert [e["action"] for e in record["events"]] == ["push_plans", "rollback_plans"]
    assert [m["plans"] for m in record["minutes"]][1:3] == ["2023-02-baseline", "2023-03-06-billing"]
    assert record["minutes"][2]["first_party"]["467"] > 0
    assert sum(row[4] for row in record["counts"]) == record["requests"]
    summary = record["summary"]
    assert summary["impact_minutes"] == 2
    assert summary["push_to_rollback_minutes"] == 2
    assert summary["first_party_failed_by_surface"]["links"] > 0


def test_the_table_shows_the_timeline_events_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(short_scenario(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "09:00 PST ▶ push plans -> 2023-03-06-billing" in out
    assert "minutes of impact               2 (09:00 to 09:02 PST)" in out
    assert "push to rollback                2 minutes" in out


def test_chart_is_written_as_a_png(tmp_path: Path) -> None:
    chart = tmp_path / "replay.png"
    assert main(["replay", str(short_scenario(tmp_path)), "--chart", str(chart)]) == 0
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert chart.stat().st_size > 10_000
    assert sorted(path.name for path in tmp_path.iterdir()) == ["replay.png", "short.toml"]


def test_a_malformed_scenario_is_a_line_per_problem_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntitle = "t"\n')
    assert main(["replay", str(bad)]) == 2
    lines = capsys.readouterr().err.splitlines()
    # Each missing key (start, plans, services, traffic) is a line of its own.
    assert len(lines) == 4
    assert all(line.startswith(f"gw467: error: {bad}: ") and "missing required key" in line for line in lines)


@pytest.mark.parametrize(
    ("option", "name", "expected"),
    [
        ("--chart", "out.txt", "out.txt: the file name must end in .png"),
        ("--chart", "chart", "chart: the file name must end in .png"),
        ("--json", ".", "is a directory; give a file name"),
        ("--json", "missing/replay.json", "missing does not exist (create it first)"),
        ("--chart", "missing/replay.png", "missing does not exist (create it first)"),
        ("--json", "file/replay.json", "file is not a directory"),
    ],
)
def test_a_bad_output_path_is_one_line_and_exit_2_before_the_replay_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, name: str, expected: str
) -> None:
    (tmp_path / "file").write_text("")
    scenario = short_scenario(tmp_path)
    before = sorted(tmp_path.iterdir())
    assert main(["replay", str(scenario), option, str(tmp_path / name)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"gw467 replay: error: argument {option}: ")
    assert expected in captured.err and captured.err.count("\n") == 1
    # Nothing ran (no timeline on stdout) and nothing was created, not even a directory.
    assert captured.out == ""
    assert sorted(tmp_path.iterdir()) == before


def test_push_replays_the_scenario_with_the_given_file_at_its_push_event_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = Path(__file__).resolve().parents[2] / "plans"
    fixed = plans / "2023-03-06-billing-fixed.toml"
    out = tmp_path / "record.json"
    assert main(["replay", str(short_scenario(tmp_path)), "--push", str(fixed), "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    push = next(event for event in record["events"] if event["action"] == "push_plans")
    assert push["version"] == "2023-03-06-billing-fixed"
    assert push["note"] == f"{fixed} pushed (--push, in place of 2023-03-06-billing.toml)"
    assert record["summary"]["first_party_failed"] == 0  # the fixed file breaks nobody


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, "--push: no such file"), ("schema = 1\n", "--push: version: missing required key")],
)
def test_a_push_file_that_cannot_be_used_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, expected: str
) -> None:
    plan = tmp_path / "mine.toml"
    if text is not None:
        plan.write_text(text)
    assert main(["replay", str(short_scenario(tmp_path)), "--push", str(plan)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gw467: error: {plan}: {expected}") and err.count("\n") == 1
