"""What a plan file says reaches the terminal as text: its control characters are written as escapes
and its rich markup is printed as written, in `check`, `diff`, `explain` and `matrix`."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.terminal.console import shown
from gateway.terminal.printable import printable
from tests.conftest import BASELINE, FIXED

# ESC [2J clears the screen; ESC ]0; retitles the window; BEL rings; [bold red] would be a style.
HOSTILE = "evil\\u001b[2J\\u001b]0;pwned\\u0007[bold red]loud[/]"
HOSTILE_SHOWN = "evil\\x1b[2J\\x1b]0;pwned\\x07[bold red]loud[/]"


def test_printable_writes_every_control_character_as_its_escape() -> None:
    assert printable("a\x1b[2Jb\nc\x9b\x7f\x00") == "a\\x1b[2Jb\\nc\\x9b\\x7f\\x00"
    assert printable("plain text, é and → stay") == "plain text, é and → stay"
    assert shown("[bold]x\x07") == "\\[bold]x\\x07"


@pytest.fixture
def hostile_plan(tmp_path: Path) -> Path:
    text = FIXED.read_text()
    version_line = next(line for line in text.splitlines() if line.startswith("version = "))
    path = tmp_path / "hostile.toml"
    path.write_text(text.replace(version_line, f'version = "{HOSTILE}"'))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["check", "{plan}"],
        ["diff", str(BASELINE), "{plan}"],
        ["explain", "--plans", "{plan}", "GET", "/2/tweets/1", "--key", "gw467-demo-web"],
        ["matrix", "{plan}", "--against", str(BASELINE)],
    ],
    ids=["check", "diff", "explain", "matrix"],
)
def test_a_plan_files_version_is_shown_not_obeyed(
    command: list[str], hostile_plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(hostile_plan) if part == "{plan}" else part for part in command]
    code = main(argv)
    out = capsys.readouterr().out
    assert code in (0, 1), out
    assert "\x1b" not in out and "\x07" not in out
    assert HOSTILE_SHOWN in out
