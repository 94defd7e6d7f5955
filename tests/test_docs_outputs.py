"""Every transcript in README.md and docs/ (a block of `$ command` lines and what they print)
shows what the command really prints, where that output is deterministic.

Each command runs under bash from a scratch directory holding the repository's files (links),
with `.venv/bin` first on PATH, one after the other; each line the page shows must appear in
the command's real output, in the same order (a `...` line stands for lines left out). A
transcript that cannot be rerun here (a server of its own, a file the reader wrote) says why
on the line before it: `<!-- output not checked: REASON -->`, so none is left out silently.
docs/teaching.md has a test of its own (tests/test_teaching.py).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_docs_commands import scratch_directory

pytestmark = pytest.mark.slow  # replays and verify runs

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TESTED_ELSEWHERE = {"docs/teaching.md"}
NOT_CHECKED = re.compile(r"<!-- output not checked: (?P<reason>[^>]+) -->\s*$")
WIDTH = "100"  # the project's terminal width


@dataclass(frozen=True)
class Step:
    command: str
    shown: tuple[str, ...]


@dataclass(frozen=True)
class Transcript:
    document: str
    line: int
    steps: tuple[Step, ...]
    not_checked: str | None

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}"


def transcripts(path: Path) -> list[Transcript]:
    lines = path.read_text().splitlines()
    found: list[Transcript] = []
    number = 0
    while number < len(lines):
        if not lines[number].startswith("```"):
            number += 1
            continue
        end = next(n for n in range(number + 1, len(lines)) if lines[n].startswith("```"))
        body = lines[number + 1 : end]
        if lines[number].strip() == "```" and any(line.startswith("$ ") for line in body):
            marker = NOT_CHECKED.search(lines[number - 1]) if number else None
            found.append(
                Transcript(
                    str(path.relative_to(ROOT)),
                    number + 1,
                    _steps(body),
                    marker.group("reason") if marker else None,
                )
            )
        number = end + 1
    return found


def _steps(body: list[str]) -> tuple[Step, ...]:
    steps: list[Step] = []
    lines = iter(body)
    command: list[str] = []
    shown: list[str] = []
    for line in lines:
        if line.startswith("$ "):
            if command:
                steps.append(Step("\n".join(command), tuple(shown)))
            command, shown = [line[2:]], []
            while command[-1].endswith("\\"):
                command.append(next(lines))
        else:
            shown.append(line)
    if command:
        steps.append(Step("\n".join(command), tuple(shown)))
    return tuple(steps)


TRANSCRIPTS = [
    transcript
    for document in DOCUMENTS
    if str(document.relative_to(ROOT)) not in TESTED_ELSEWHERE
    for transcript in transcripts(document)
]


def _words(text: str) -> str:
    return " ".join(text.split())


def missing_lines(shown: tuple[str, ...], output: str) -> list[str]:
    """The shown lines not found in `output`, in order. Spacing is not compared (a terminal
    wraps long lines and pads table cells to its width), and `...` (or `…`) stands for text
    left out, a whole line or part of one."""
    printed = _words(output)
    position = 0
    missing: list[str] = []
    for line in shown:
        fragments = [_words(piece) for piece in re.split(r"\.\.\.|…", line) if piece.strip()]
        start = position
        for fragment in fragments:
            found = printed.find(fragment, start)
            if found < 0:
                missing.append(line)
                break
            start = found + len(fragment)
        else:
            position = start
    return missing


def test_every_transcript_is_checked_or_says_why_not() -> None:
    assert TRANSCRIPTS, "no transcript found"
    for transcript in TRANSCRIPTS:
        assert transcript.not_checked is None or len(transcript.not_checked) > 10, transcript.name


def test_the_comparison_finds_a_line_the_command_does_not_print() -> None:
    assert missing_lines(("a", "...", "c"), "a\nb\nc\n") == []
    assert missing_lines(("c", "a"), "a\nb\nc\n") == ["a"]
    assert missing_lines(("a (99.0%)",), "a (98.0%)\n") == ["a (99.0%)"]
    assert missing_lines(("ok  tier ... (200 examples)",), "ok tier monotonicity\n(200 examples)\n") == []
    assert missing_lines(("ok  tier ... (201 examples)",), "ok tier monotonicity\n(200 examples)\n") != []


@pytest.mark.parametrize(
    "transcript", [t for t in TRANSCRIPTS if t.not_checked is None], ids=lambda transcript: transcript.name
)
def test_the_transcript_shows_the_real_output(transcript: Transcript, tmp_path: Path) -> None:
    work = scratch_directory(tmp_path)
    environment = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "COLUMNS": WIDTH,
        "TERM": "dumb",
        "NO_COLOR": "1",
    }
    code = 0
    for step in transcript.steps:
        if step.command == "echo $?":
            output = f"{code}\n"
        else:
            run = subprocess.run(
                ["bash", "-c", step.command],
                cwd=work,
                env=environment,
                capture_output=True,
                text=True,
                timeout=300,
            )
            code, output = run.returncode, run.stdout + run.stderr
        missing = missing_lines(step.shown, output)
        assert not missing, (
            f"{transcript.name}: $ {step.command}\nnot printed: {missing}\nprinted:\n{output[-3000:]}"
        )
