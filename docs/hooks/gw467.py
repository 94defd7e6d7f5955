"""MkDocs hook: puts the generated references in the pages that ask for them.

A page asks with a line `<!-- gw467:generated KIND -->`; KIND is `cli`, `plan`, `scenario`,
`suite`, `settings` or `performance`. The text comes from the code (gateway.cli.reference) and,
for performance, from the measured file docs/measured/bench.json, so no figure is typed by hand.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` is a folder of the repository, not of the package
    sys.path.insert(0, str(ROOT))

from benchmarks.report import markdown as bench_markdown  # noqa: E402
from gateway.cli import reference  # noqa: E402

MEASURED = Path("docs/measured/bench.json")
MARKER = re.compile(r"^<!-- gw467:generated (?P<kind>[a-z]+) -->$", re.MULTILINE)


def generated(kind: str) -> str:
    """The Markdown for one marker; an unknown kind fails the build."""
    if kind == "cli":
        return reference.cli_reference()
    if kind in ("plan", "scenario", "suite"):
        return reference.file_reference(kind)
    if kind == "settings":
        return reference.settings_reference()
    if kind == "performance":
        return bench_markdown(json.loads((ROOT / MEASURED).read_text()), str(MEASURED))
    raise ValueError(f"unknown generated section {kind!r}")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return MARKER.sub(lambda match: generated(match.group("kind")), markdown)
