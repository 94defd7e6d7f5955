"""Every report fits the terminal it is printed on, at 80 and 100 columns: no line is wider, and no
header or cell is cut to `…` (headers are abbreviated on purpose, with a legend, or wrap).

Each command runs as a user runs it, through `main`, with COLUMNS set (the console honours it even
when the output is captured); the replay and the comparison on a short scenario, and the full hour
of 2023-03-06 in tests/replay/test_shipped_2023.py.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType

from gateway.cli.main import main
from gateway.replay.terminal import short_names
from tests.conftest import BASELINE, BILLING, ROOT
from tests.replay.conftest import short_scenario
from tests.replay.test_safety import QUICK_OPERATORS

WIDTHS = (80, 100)


def assert_fits(text: str, width: int) -> None:
    """No line wider than `width` cells, and no `…` anywhere (rich's mark of a cut cell or header)."""
    lines = text.splitlines()
    assert lines, "nothing was printed"
    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide, f"{len(too_wide)} lines wider than {width}, e.g. {too_wide[0]!r}"
    cut = [line for line in lines if "…" in line]
    assert not cut, f"cut at {width} columns: {cut[0]!r}"


def rendered(renderable: RenderableType, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), highlight=False)
    console.print(renderable)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


def printed(
    argv: list[str], width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    main(argv)
    return capsys.readouterr().out


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "argv",
    [
        ["matrix", str(BILLING), "--against", str(BASELINE)],
        ["matrix", str(ROOT / "plans" / "2023-02-baseline.toml")],
        ["diff", str(BASELINE), str(BILLING)],
        ["test", str(BILLING)],
        ["test", str(ROOT / "plans" / "2023-03-06-billing-fixed.toml")],
    ],
    ids=["matrix-against", "matrix", "diff", "test-failing", "test-passing"],
)
def test_a_plan_report_fits_the_terminal(
    argv: list[str], width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_fits(printed(argv, width, monkeypatch, capsys), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_replay_and_the_comparison_fit_the_terminal(
    width: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = str(short_scenario(tmp_path, minutes=8, header_extra=QUICK_OPERATORS))
    replay = printed(["replay", scenario], width, monkeypatch, capsys)
    assert_fits(replay, width)
    assert "09:00 PST ▶ push plans -> 2023-03-06-billing" in replay
    comparison = printed(["replay", scenario, "--compare"], width, monkeypatch, capsys)
    assert_fits(comparison, width)
    assert "canary controller" in comparison


def test_the_matrix_repeats_the_client_columns_rather_than_cut_a_surface(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    narrow = printed(["matrix", str(BILLING)], 80, monkeypatch, capsys)
    wide = printed(["matrix", str(BILLING)], 200, monkeypatch, capsys)
    assert narrow.count("judged by") > 1 and wide.count("judged by") == 1
    headers = " ".join(
        line
        for line, under in zip(narrow.splitlines(), narrow.splitlines()[1:], strict=False)
        if "──" in under
    )
    for surface in ("links", "media", "timeline", "tweetdeck", "compliance", "usage", "spaces", "dm"):
        assert surface in headers.split()


def test_short_names_keep_short_names_and_abbreviate_long_ones_uniquely() -> None:
    short = short_names(["web", "media", "android", "tweetdeck", "tweetbot", "tweetdesk"])
    assert short == {
        "web": "web",
        "media": "media",
        "android": "andr.",
        "tweetdeck": "twee.",
        "tweetbot": "twe2.",
        "tweetdesk": "twe3.",
    }
    assert all(len(header) <= 5 for header in short.values())
