"""The replay's web report as text: self-contained, escaped, one panel per minute."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path

from gateway.cli.main import main
from gateway.replay.engine import ReplayEngine
from gateway.replay.html import replay_report
from gateway.replay.scenario import load_scenario
from tests.replay.conftest import short_scenario


def test_the_report_loads_nothing_from_elsewhere_and_escapes_what_files_say(tmp_path: Path) -> None:
    scenario = dataclasses.replace(load_scenario(short_scenario(tmp_path)), title="<script>alert(1)</script>")
    page = replay_report(asyncio.run(ReplayEngine(scenario).run()))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=|url\(|@import|https?://""", page)
    # Every minute rendered once; only the cursor's starting minute (mid-impact) is shown.
    assert len(re.findall(r"data-minute-panel=", page)) == 6
    assert re.findall(r'data-minute-panel="(\d)">', page) == ["2"]


def test_replay_html_writes_the_report_beside_the_other_outputs(tmp_path: Path) -> None:
    out = tmp_path / "replay.html"
    assert main(["replay", str(short_scenario(tmp_path)), "--html", str(out), "--format", "json"]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
