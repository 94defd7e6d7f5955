"""docs/teaching.md, rehearsed: every command in it runs, and every line it quotes is in the output.

The guide's expectations are data beside it (docs/teaching/expected.toml): one step per
command, with the lines the guide tells the room to look for. The quick tests hold the guide
and the data to each other (every command of the guide is a step, every quoted line is in the
guide), run the quick steps, and check the exercise answer keys and speaker notes; the `deep`
test runs the whole guide in order (the browser steps excepted: tests/browser/ covers them).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "teaching.md"
EXPECTED = ROOT / "docs" / "teaching" / "expected.toml"
NOTES = ROOT / "docs" / "teaching" / "speaker-notes.md"
STEPS: list[dict[str, Any]] = tomllib.loads(EXPECTED.read_text())["step"]


def flat(text: str) -> str:
    """Whitespace collapsed: the guide wraps quoted lines, the terminal pads them."""
    return " ".join(text.split())


def guide_commands() -> list[str]:
    """Each command line of the guide's sh blocks, continuation lines joined, comments dropped."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                commands.append(flat(command))
    return commands


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The guide's setting: `gw467` and `python` on the PATH, as `make venv` leaves them, run here."""
    bin_dir = tmp_path_factory.mktemp("bin")
    (bin_dir / "gw467").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gateway "$@"\n')
    (bin_dir / "gw467").chmod(0o755)
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python").chmod(0o755)
    path = f"{bin_dir}:{os.environ['PATH']}"
    # This checkout's gateway, for a script run by path too (examples/status_demo.py).
    return {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT), "GW467_BIN": str(bin_dir)}


def run(step: dict[str, Any], env: dict[str, str]) -> str:
    command = step["command"]
    if command.startswith("make "):
        # The Makefile's own recipe, with the tools above instead of a .venv of its own.
        command += f" BIN={env['GW467_BIN']} CLI_STAMP="
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == step.get("exit", 0), (command, done.stderr[-2000:])
    return done.stdout + done.stderr


def status_runs(record: Path) -> list[str]:
    """What the report's status strip shows: each run of minutes in one state, as the guide says it."""
    minutes = json.loads(record.read_text())["minutes"]
    runs = []
    for state, run_of in itertools.groupby(minutes, key=lambda minute: minute["status_page"]["status"]):
        times = [minute["time"] for minute in run_of]
        runs.append(f"{state} from {times[0]} to {times[-1]}")
    return runs


def check(step: dict[str, Any], output: str) -> None:
    missing = [line for line in step.get("expect", []) if flat(line) not in flat(output)]
    assert missing == [], (step["command"], missing, output[-3000:])
    if "status_runs" in step:
        shown = status_runs(ROOT / step["record"])
        assert [run for run in step["status_runs"] if run not in shown] == [], shown
    if "rows" in step:
        compared = [row_of(row) for row in json.loads((ROOT / step["record"]).read_text())["rows"]]
        assert [row for row in step["rows"] if row not in compared] == [], compared


def row_of(row: dict[str, Any]) -> list[Any]:
    """A comparison row as expected.toml gives it, detection as the table prints it."""
    minutes = row["minutes_to_detect"]
    detect = "-" if minutes is None else f"{'<1' if minutes == 0 else minutes} ({row['detected_by']})"
    return [row["layer"], row["sli"], row["first_party_failed"], detect, row["instances_ran_pushed_table"]]


def quoted_row(row: list[Any]) -> str:
    """How the guide shows a row: a fleet row as a line of its table, another by its failures."""
    layer, _sli, failed, detect, ran = row
    return f"| {layer} | {failed:,} | {detect} | {ran} |" if layer.startswith("fleet: ") else f"{failed:,}"


def test_every_command_of_the_guide_is_a_step_and_every_step_is_in_the_guide() -> None:
    assert sorted(guide_commands()) == sorted(flat(step["command"]) for step in STEPS)


def test_every_line_the_data_expects_is_quoted_in_the_guide() -> None:
    guide = flat(GUIDE.read_text().replace("`", ""))
    quoted = [line for step in STEPS for line in step.get("expect", []) + step.get("status_runs", [])]
    assert [line for line in quoted if flat(line) not in guide] == []
    rows = [quoted_row(row) for step in STEPS for row in step.get("rows", [])]
    assert [row for row in rows if flat(row) not in guide] == []


def test_the_guide_types_no_durations_by_hand() -> None:
    # Times come from a measured run or are left out: a guess read aloud is a promise broken.
    assert re.findall(r"about (?:\d+|a|ten) (?:s|seconds?|minutes?)\b", GUIDE.read_text()) == []


def test_every_ask_the_room_has_an_answer_in_the_speaker_notes() -> None:
    sections = re.split(r"^## ", GUIDE.read_text(), flags=re.M)[1:]
    asked = [section.splitlines()[0] for section in sections if "*Ask the room:*" in section]
    notes = NOTES.read_text()
    answered = re.findall(r"^## (.+)$", notes, re.M)
    assert asked == answered
    for heading in answered:
        body = notes.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
        assert "**Answer:**" in body, heading


@pytest.mark.parametrize("step", [s for s in STEPS if s.get("quick")], ids=lambda s: s["command"][:60])
def test_a_quick_step_of_the_guide_prints_what_the_guide_quotes(
    step: dict[str, Any], shell: dict[str, str]
) -> None:
    check(step, run(step, shell))


@pytest.mark.deep
def test_the_whole_guide_runs_in_order_and_prints_what_it_quotes(shell: dict[str, str]) -> None:
    for step in STEPS:
        check(step, run(step, shell))
