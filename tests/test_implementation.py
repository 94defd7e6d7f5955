"""Which build of the hot path runs: a stale compiled module is noticed, whichever file mypyc left old."""

from __future__ import annotations

import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from gateway import implementation
from gateway.implementation import HOT_PATH, MYPYC_LIBRARY_INFIX, stale_builds

MODULE = "gateway.serving.middleware"


def _tree(root: Path, *, shim_age: float | None, library_age: float | None) -> None:
    """A copy of the package layout under root: every hot-path source now, one module's builds aged."""
    now = 1_700_000_000.0
    for module in HOT_PATH:
        source = root.joinpath(*module.split(".")).with_suffix(".py")
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("")
        os.utime(source, (now, now))
    source = root.joinpath(*MODULE.split(".")).with_suffix(".py")
    for infix, age in (("", shim_age), (MYPYC_LIBRARY_INFIX, library_age)):
        if age is not None:
            built = source.with_name(source.stem + infix + EXTENSION_SUFFIXES[0])
            built.write_bytes(b"")
            os.utime(built, (now - age, now - age))


@pytest.mark.parametrize(
    ("shim_age", "library_age", "stale"),
    [
        (None, None, False),  # nothing built: the source runs
        (-5.0, -5.0, False),  # both built after the source
        (3600.0, -5.0, False),  # the shim came out the same and was left alone; the code is new
        (3600.0, 3600.0, True),  # the source changed after the last build
        (3600.0, None, True),  # a single-file build, older than its source
    ],
)
def test_a_build_is_stale_only_when_its_newest_file_is_older_than_the_source(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shim_age: float | None,
    library_age: float | None,
    stale: bool,
) -> None:
    _tree(tmp_path, shim_age=shim_age, library_age=library_age)
    monkeypatch.setattr(implementation, "PACKAGE_DIR", tmp_path / "gateway")
    assert stale_builds() == ([MODULE] if stale else [])
