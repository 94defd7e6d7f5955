"""Which build of the hot path runs: a compiled module built from another source is noticed.

Staleness is judged by the source's content against the record the build wrote, never by
mtimes: a checkout or a touch changes those, and mypyc leaves a module's files alone when
its C output comes out the same.
"""

from __future__ import annotations

import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from gateway import hot_path as implementation
from gateway.hot_path import BUILD_RECORD, HOT_PATH, MYPYC_LIBRARY_INFIX, record_build, stale_builds

MODULE = "gateway.fronts.middleware"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the package layout: every hot-path source, and nothing built yet."""
    for module in HOT_PATH:
        source = tmp_path.joinpath(*module.split(".")).with_suffix(".py")
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(f"# {module}\n")
    monkeypatch.setattr(implementation, "PACKAGE_DIR", tmp_path / "gateway")
    return tmp_path / "gateway"


def _build(package: Path, module: str = MODULE) -> Path:
    source = package.parent.joinpath(*module.split(".")).with_suffix(".py")
    for infix in ("", MYPYC_LIBRARY_INFIX):
        source.with_name(source.stem + infix + EXTENSION_SUFFIXES[0]).write_bytes(b"")
    return source


def test_nothing_built_is_never_stale(package: Path) -> None:
    assert stale_builds() == []


def test_a_build_of_the_source_in_place_is_not_stale_whatever_the_mtimes(package: Path) -> None:
    source = _build(package)
    record_build()
    os.utime(source, (2_000_000_000, 2_000_000_000))  # touched after the build: same content
    assert stale_builds() == []


def test_a_source_changed_since_its_build_is_stale(package: Path) -> None:
    source = _build(package)
    record_build()
    source.write_text("# edited after the build\n")
    assert stale_builds() == [MODULE]


@pytest.mark.parametrize("record", [None, "not json", "{}"])
def test_a_build_with_no_record_of_its_source_is_stale(package: Path, record: str | None) -> None:
    _build(package)
    if record is not None:
        (package / BUILD_RECORD).write_text(record)
    assert stale_builds() == [MODULE]
