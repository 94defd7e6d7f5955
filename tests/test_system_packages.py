"""Every system program the tests, benchmarks, load tests and examples look up is one the
Makefile installs: on a fresh machine `make test` brings what the suite needs, and nothing is
left to `.ci/run` or to a person.

A program is looked up by `shutil.which` with the name as a literal, or by an absolute path under /usr/bin or
/usr/sbin written in the source; the Makefile's package lists are PROGRAM:PACKAGE entries.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

LOOKED_UP = re.compile(r"""shutil\.which\(\s*["']([\w.+-]+)["']|["']/usr/s?bin/([\w.+-]+)["']""")
PACKAGE_LIST = re.compile(r"^(\w+_PACKAGES)\s*:=\s*(.*)$", re.MULTILINE)
WHERE = ("tests", "benchmarks", "loadtests", "examples", "gateway")


def looked_up_programs(root: Path = ROOT) -> dict[str, str]:
    """Each program looked up, with one file that looks it up."""
    found: dict[str, str] = {}
    for folder in WHERE:
        for path in sorted((root / folder).rglob("*.py")):
            for match in LOOKED_UP.finditer(path.read_text()):
                found.setdefault(match.group(1) or match.group(2), str(path.relative_to(root)))
    return found


def installed_programs(makefile: str) -> dict[str, str]:
    """PROGRAM -> PACKAGE from every *_PACKAGES list in the Makefile."""
    programs: dict[str, str] = {}
    for _, entries in PACKAGE_LIST.findall(makefile):
        for entry in entries.split():
            program, _, package = entry.partition(":")
            programs[program] = package
    return programs


def not_installed(makefile: str) -> list[str]:
    installed = installed_programs(makefile)
    return [
        f"{where} looks up {program}, which the Makefile does not install"
        for program, where in sorted(looked_up_programs().items())
        if program not in installed
    ]


def test_every_program_the_suite_looks_up_is_installed_by_the_makefile() -> None:
    assert not_installed((ROOT / "Makefile").read_text()) == []


def test_the_suite_does_look_up_the_servers_it_starts() -> None:
    assert {"nginx", "redis-server", "chromium"} <= set(looked_up_programs())


def test_the_check_fails_when_nginx_is_dropped_from_the_makefiles_list() -> None:
    makefile = (ROOT / "Makefile").read_text()
    without = re.sub(r"\bnginx:nginx\b", "", makefile)
    assert without != makefile
    assert any("looks up nginx" in problem for problem in not_installed(without))


def test_the_makefile_installs_packages_only_by_the_targets_and_ci_installs_none() -> None:
    assert "apt-get" not in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: .*system-packages", makefile, re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^make [\w-]+", ci, re.MULTILINE)
    assert commands[:2] == ["make replay", "make test"]
