"""The documentation site builds with --strict, fetches nothing from elsewhere, and its generated
references match the code: every command and option of the parsers, every key of the file
formats, the settings, and a performance page read from the measured file.

Also: no hand-typed timing or size in README.md or docs/ (figures come from measured files), and
every section of the old manual-length README landed on a page of the site.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gateway.cli import reference
from gateway.cli.main import build_parser
from gateway.cli.schema import KINDS
from gateway.fronts.settings import SETTINGS_FIELDS
from tests.conftest import ROOT

DOCS = ROOT / "docs"
MEASURED = json.loads((DOCS / "measured" / "bench.json").read_text())
LOOPBACK = ("http://127.0.0.1", "https://127.0.0.1", "http://localhost")


def build_site(target: Path, *wrapper: str) -> Path:
    """The site as `make docs` builds it (--strict: a broken link or a missing page fails), into
    `target`; `wrapper` runs the build under another command (`unshare -n`: no network)."""
    build = subprocess.run(
        [*wrapper, sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert build.returncode == 0, build.stderr[-4000:]
    return target


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site"))


# <link rel=...> that a browser loads as it shows the page (not canonical, next, prev: links).
LOADED_LINKS = ("stylesheet", "preload", "prefetch", "icon", "manifest", "modulepreload")


class _Fetches(HTMLParser):
    """What a page loads as it is shown: scripts, styles, images, fonts, frames (not the links
    a reader may follow)."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio", "embed") and values.get("src"):
            self.loaded.append(values["src"] or "")
        if tag == "link" and values.get("href") and values.get("rel") in LOADED_LINKS:
            self.loaded.append(values["href"] or "")


def test_the_site_loads_nothing_from_another_host(site: Path) -> None:
    outside: list[str] = []
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 30
    for page in pages:
        parser = _Fetches()
        parser.feed(page.read_text())
        outside += [f"{page.relative_to(site)}: {url}" for url in parser.loaded if "//" in url]
    for sheet in [*site.rglob("*.css"), *site.rglob("*.js")]:
        text = sheet.read_text(errors="replace")
        outside += [
            f"{sheet.relative_to(site)}: {match}"
            for match in re.findall(r"(?:@import\s+|url\()\s*[\"']?(https?://[^\"')\s]+)", text)
        ]
    assert not outside, outside


def test_the_cli_reference_lists_every_command_and_option(site: Path) -> None:
    page = (site / "reference" / "cli.html").read_text()
    generated = reference.cli_reference()
    missing: list[str] = []
    for path, parser, _ in reference.walk(build_parser()):
        title = " ".join(("gw467", *path))
        if f"### {title}\n" not in generated or f'id="{"-".join(title.split())}"' not in page:
            missing.append(title)
        for action in parser._actions:
            for option in action.option_strings:
                if f"`{option}`" not in generated or f"<code>{option}</code>" not in page:
                    missing.append(f"{title} {option}")
    assert not missing, missing


@pytest.mark.parametrize(
    ("kind", "page"), [("plan", "plan-file"), ("scenario", "scenario-file"), ("suite", "suite-file")]
)
def test_the_file_references_list_every_key_of_the_schema(site: Path, kind: str, page: str) -> None:
    html = (site / "reference" / f"{page}.html").read_text()
    schema = KINDS[kind]()
    keys = {
        key
        for definition in schema.get("definitions", {}).values()
        for key in definition.get("properties", {})
    }
    keys |= set(schema.get("properties", {}))
    assert keys
    assert not [key for key in sorted(keys) if f"<code>{key}</code>" not in html]


def test_the_performance_page_is_the_measured_file_with_its_machine_and_commit(site: Path) -> None:
    html = (site / "reference" / "performance.html").read_text()
    meta = MEASURED["meta"]
    assert meta["commit"] in html and meta["processor"] in html
    assert all(row["label"] in html for row in MEASURED["measurements"].values())
    assert html.count("<td>pass</td>") + html.count("<td>miss</td>") == sum(
        target["result"] in ("pass", "miss") for target in MEASURED["targets"].values()
    )


@dataclass(frozen=True)
class _Setting:
    name: str
    default: object
    env: str | None
    option: str | None
    doc: str


def test_the_settings_reference_has_a_row_per_declared_setting() -> None:
    fields = [
        _Setting("sli", "first-party-denials", "GW467_SLI", "--sli", "what counts as failed"),
        _Setting("clock", "time.time", None, None, "the replay's virtual clock | or the wall's"),
    ]
    table = reference.settings_reference(fields).splitlines()
    assert table[2] == "| `sli` | `first-party-denials` | `GW467_SLI` | `--sli` | what counts as failed |"
    assert table[3] == "| `clock` | `time.time` |  |  | the replay's virtual clock \\| or the wall's |"


def test_the_settings_page_has_every_declared_setting_and_its_variable(site: Path) -> None:
    html = (site / "reference" / "settings.html").read_text()
    assert SETTINGS_FIELDS, "the settings object declares its fields"
    for field in SETTINGS_FIELDS:
        assert f"<code>{field.name}</code>" in html and f"<code>{field.env}</code>" in html, field.name


# A figure with a unit of time or size, in prose (code blocks are commands, configuration and
# program output; those outputs are checked where they are deterministic).
FIGURE = re.compile(
    r"(?<![\w.])\d[\d,]*[½¼¾]?(?:\.\d+)?(?:\s(?:s|seconds?|minutes?|min|hours?|h)|\s?(?:ms|µs|us|ns|[KMG]i?B|kB))\b"
)
# Not measurements: settings, the virtual clock's figures (deterministic replay output), the
# incident's facts, and the size of a test's fixture. Anything else must come from a measured
# file, rendered when the site is built.
NOT_MEASURED: dict[str, set[str]] = {
    "docs/INCIDENT.md": {"45 minutes"},  # the incident's facts: Ars Technica's own tests
    "docs/explanation/security.md": {"16 MiB"},  # the input bound (GW467_MAX_INPUT_BYTES)
    "docs/how-to/fleet.md": {"0.5 s", "3 s", "0.25 s", "10 minutes", "5 s"},  # heartbeat, TTL, deadline, soak
    "docs/how-to/upstream.md": {"3 MB"},  # the test's fixture file
    "docs/reference/status.md": {"5 minutes", "1 h", "5 min", "6 h", "30 min", "5 s"},  # windows, refresh
    "docs/teaching/speaker-notes.md": {"30 minutes"},  # virtual clock: the rings' bake
    "docs/teaching.md": {"00 minute", "5 s", "10 s", "10 minutes", "30 minutes"},  # the scenario's settings
    "docs/tutorial/replay.md": {"2023 minute", "15 minutes"},  # a date; the quota window
    "docs/tutorial/safety-layers.md": {
        "10 minutes",  # bake time
        "60 seconds",  # the canary's window
        "9 minutes",  # virtual clock: replay output
        "10 seconds",  # propagation_seconds
        "61 minutes",  # virtual clock: replay output
        "15 minutes",  # the quota window
        "30 minutes",  # virtual clock: the rings' bake
    },
}


def prose_figures(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    in_code = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code or line.startswith("    "):
            continue
        found += [(number, match.group(0)) for match in FIGURE.finditer(re.sub(r"`[^`]*`", "", line))]
    return found


def test_no_hand_typed_timing_or_size_in_the_readme_or_the_docs() -> None:
    typed = [
        f"{path.relative_to(ROOT)}:{number}: {figure}"
        for path in [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
        for number, figure in prose_figures(path)
        if figure not in NOT_MEASURED.get(str(path.relative_to(ROOT)), set())
    ]
    assert not typed, f"read these from a measured file (docs/measured/) instead: {typed}"


def test_the_timing_check_catches_a_hand_typed_figure(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("The replay takes about 8 seconds, 9 to 11 s here; a 507 MB install.\n```\n12 s\n```\n")
    assert [figure for _, figure in prose_figures(page)] == ["8 seconds", "11 s", "507 MB"]


# Each section of the README before the site (its headings then) and where it lives now.
README_SECTIONS: dict[str, tuple[str, str]] = {
    "Quick start": ("README.md", "Quick start"),
    "The replay": ("tutorial/replay.md", "The replay"),
    "Scenario files": ("reference/scenario-file.md", "Scenario files"),
    "The fleet: propagation and rollout rings": (
        "reference/scenario-file.md",
        "The fleet: propagation and rollout rings",
    ),
    "Safety layers: what would have caught it, and how fast": (
        "tutorial/safety-layers.md",
        "Safety layers: what would have caught it, and how fast",
    ),
    "Staged rollout: replicated everywhere within seconds, or ring by ring": (
        "tutorial/safety-layers.md",
        "Staged rollout: replicated everywhere within seconds, or ring by ring",
    ),
    "gw467 diff: the blast radius of a plan change": (
        "tutorial/safety-layers.md",
        "gw467 diff: the blast radius of a plan change",
    ),
    "Impact on your logs: `gw467 impact`": ("how-to/impact.md", "Impact on your logs: `gw467 impact`"),
    "Shadow, canary, promote, roll back: the admin API": (
        "reference/admin-api.md",
        "Shadow, canary, promote, roll back: the admin API",
    ),
    "Fleet mode: several workers and instances on one Redis": (
        "how-to/fleet.md",
        "Fleet mode: several workers and instances on one Redis",
    ),
    "Operating it: decision logs, SIGHUP, `gw467 admin`": (
        "reference/decision-log.md",
        "Operating it: decision logs, SIGHUP, `gw467 admin`",
    ),
    "Status, alert and metrics": ("reference/status.md", "Status, alert and metrics"),
    "In a browser: the status page and the replay report": (
        "reference/status.md",
        "In a browser: the status page and the replay report",
    ),
    "Demo API keys": ("reference/demo-keys.md", "Demo API keys"),
    "Install": ("how-to/install.md", "Install"),
    "Use it in front of your own app": ("how-to/own-app.md", "Use it in front of your own app"),
    "In front of any HTTP service, or behind nginx": (
        "how-to/upstream.md",
        "In front of any HTTP service, or behind nginx",
    ),
    "Security: what gw467 forwards, strips and refuses": (
        "explanation/security.md",
        "Security: what gw467 forwards, strips and refuses",
    ),
    "How a request is decided": ("explanation/decision.md", "How a request is decided"),
    "Compile once, decide with lookups": ("explanation/decision.md", "Compile once, decide with lookups"),
    "Plan files": ("reference/plan-file.md", "Plan files"),
    "Command line": ("reference/cli.md", "Command line"),
    "Tests": ("explanation/tests.md", "Tests"),
    "On your own plan files": ("how-to/plan-tests.md", "On your own plan files"),
    "Testing your own plan files": ("how-to/plan-tests.md", "Testing your own plan files"),
    "Load tests": ("how-to/load-tests.md", "Load tests"),
    "Benchmarks": ("reference/performance.md", "What `make bench` measures"),
    "Performance": ("reference/performance.md", "The measured run"),
    "What a shared quota costs: Redis beside the in-memory ledger": (
        "reference/performance.md",
        "Reading the figures",
    ),
    "Scaling: workers, 100,000 templates, 10,000,000 keys": (
        "reference/performance.md",
        "Reading the figures",
    ),
    "Layout": ("reference/layout.md", "Layout"),
}


def headings(path: Path) -> set[str]:
    found: set[str] = set()
    in_code = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"#{1,6} (.+)", line)):
            found.add(match.group(1).strip())
    return found


@pytest.mark.parametrize("section", sorted(README_SECTIONS))
def test_every_section_of_the_old_readme_landed_on_a_page(section: str) -> None:
    page, heading = README_SECTIONS[section]
    path = ROOT / page if page == "README.md" else DOCS / page
    assert heading in headings(path), f"{section!r}: no heading {heading!r} in {page}"


def test_every_page_of_the_site_is_in_its_navigation() -> None:
    listed = set(re.findall(r":\s+(\S+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE))
    pages = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    assert pages == listed, {"not in the nav": sorted(pages - listed), "no such page": sorted(listed - pages)}
