"""Every shell block in README.md and docs/ (the site's pages, in every folder) runs as pasted,
so the commands users copy keep working.

A block runs under bash (`set -e`) from a scratch directory that holds the repository's files
(links), with `.venv/bin` first on PATH and HOME of its own. A block that starts a server in the
background (`... &`) must wait for it itself, as a user pasting it needs to; the servers are
stopped when the block ends. The fixed ports a block names (8467, 6379, ...) are swapped for free
ones, consistently, so the suite can run in parallel; nothing else is changed.
A block that cannot run inside the suite says why in the line before it:
`<!-- not run by tests/test_docs_commands.py: REASON -->`; this test reads that too, so a block
is never left out silently.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.processes import free_port

pytestmark = pytest.mark.slow  # servers, a redis-server, a replay

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
NOT_RUN = re.compile(r"<!-- not run by tests/test_docs_commands\.py: (?P<reason>[^>]+) -->\s*$")
# A port a block names: in an address, or after --port or -p.
PORT = re.compile(r"(?:127\.0\.0\.1:|--port |-p )(\d{4,5})\b")
# Files with a test of their own that runs every command in them, and checks their output.
TESTED_ELSEWHERE = {"docs/teaching.md": "tests/test_teaching.py"}
# A make command in a block: at the start of a line or after ;, &&, || or (.
MAKE = re.compile(r"(?m)(?:^|(?<=[;&|(]))\s*make(?= )")
KEEP_INSTALLED = " ".join(f"-o .venv/.installed-{extra}" for extra in ("cli", "test", "docs"))


@dataclass(frozen=True)
class Block:
    document: str
    line: int
    text: str
    not_run: str | None

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}"


def shell_blocks(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    for number, line in enumerate(lines):
        if line.strip() != "```sh":
            continue
        end = next(n for n in range(number + 1, len(lines)) if lines[n].startswith("```"))
        marker = NOT_RUN.search(lines[number - 1]) if number else None
        blocks.append(
            Block(
                str(path.relative_to(ROOT)),
                number + 1,
                "\n".join(lines[number + 1 : end]) + "\n",
                marker.group("reason") if marker else None,
            )
        )
    return blocks


BLOCKS = [
    block
    for document in DOCUMENTS
    if str(document.relative_to(ROOT)) not in TESTED_ELSEWHERE
    for block in shell_blocks(document)
]


def script_for(block: Block) -> str:
    """The block as bash runs it here: with free ports in place of the ones it names."""
    ports = {port: str(free_port()) for port in PORT.findall(block.text)}
    if "make serve" in block.text:
        ports.setdefault("8467", str(free_port()))
    # Every mention of such a number is that port (`for port in 8467 8468`, too).
    text = re.sub(r"\b\d{4,5}\b", lambda match: ports.get(match.group(0), match.group(0)), block.text)
    if "make serve" in text:
        text = text.replace("make serve", f"make serve PORT={ports['8467']}")
    # make must not reinstall into the suite's .venv from the scratch directory (which would point
    # its editable install and its scripts there, for every user of that .venv): the suite runs
    # in an installed .venv already. On the command line, since make reads no -o from MAKEFLAGS.
    text = MAKE.sub(lambda match: f"{match.group(0)} {KEEP_INSTALLED}", text)
    return "set -e\n" + text


def scratch_directory(tmp_path: Path) -> Path:
    """A directory with the repository's files in it (as links), where a block may write."""
    work = tmp_path / "work"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in (".git", "out"):
            (work / entry.name).symlink_to(entry)
    (work / "out").mkdir()
    return work


def test_every_shell_block_runs_here_or_says_why_not() -> None:
    assert BLOCKS, "no shell block found"
    for block in BLOCKS:
        assert block.not_run is None or len(block.not_run) > 10, f"{block.name}: give the reason"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.not_run is None], ids=lambda block: block.name)
def test_the_shell_block_runs_as_pasted(block: Block, tmp_path: Path) -> None:
    work = scratch_directory(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    environment = {
        **os.environ,
        "HOME": str(home),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}:/usr/sbin",
    }
    log = tmp_path / "output.log"
    # Output to a file, not a pipe: the servers started with `&` keep their stdout open.
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["bash", "-c", script_for(block)],
            cwd=work,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the servers it starts end with it
        )
        try:
            code = process.wait(timeout=180)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    assert code == 0, f"{block.name} failed:\n{log.read_text()[-4000:]}"
