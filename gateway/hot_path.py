"""Which implementation of the hot-path modules runs: compiled by mypyc, or the Python sources.

`make compile` (`GW467_COMPILE=1`, see setup.py) builds the modules on the request path
(`HOT_PATH`) into extension modules beside their sources; Python then imports the
extension module, and the source stays the fallback wherever nothing was built. The
two are the same code: mypyc compiles the type-checked source, and CI runs the whole
suite against each. `GW467_PURE_PYTHON=1` makes this process import the sources even
where compiled modules are built (the mutation run, which mutates sources, and a
side-by-side benchmark); it must be set before `gateway` is first imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import EXTENSION_SUFFIXES, SOURCE_SUFFIXES, FileFinder, ModuleSpec, SourceFileLoader
from pathlib import Path
from types import ModuleType

PURE_PYTHON_ENV = "GW467_PURE_PYTHON"
# The modules every request runs through, in the order they are compiled.
HOT_PATH = (
    "gateway.core.rules",
    "gateway.core.forwarding",
    "gateway.core.paths",
    "gateway.core.routing",
    "gateway.core.credentials",
    "gateway.core.decision",
    "gateway.request_path.slo",
    "gateway.request_path.quota",
    "gateway.request_path.responses",
    "gateway.request_path.runtime",
    "gateway.fronts.middleware",
)
PACKAGE_DIR = Path(__file__).resolve().parent
MYPYC_LIBRARY_INFIX = "__mypyc"
BUILD_RECORD = "compiled-sources.json"  # beside this file: module -> SHA-256 of the source built


class SourceOnlyFinder(MetaPathFinder):
    """Finds gateway's own modules among their `.py` sources only, never an extension module."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if not fullname.startswith("gateway.") or path is None:
            return None
        for entry in path:
            spec = FileFinder(entry, (SourceFileLoader, SOURCE_SUFFIXES)).find_spec(fullname, target)
            if spec is not None:
                return spec
        return None


def pure_python_forced() -> bool:
    return os.environ.get(PURE_PYTHON_ENV) == "1"


def compiled_source(module: str) -> tuple[Path, list[Path]]:
    """A hot-path module's source file and the extension modules built from it, if any.

    mypyc (separate=True) builds two per module: `name.so`, a small shim that setuptools
    leaves untouched when it comes out the same, and `name__mypyc.so`, the compiled code.
    """
    source = PACKAGE_DIR.parent.joinpath(*module.split(".")).with_suffix(".py")
    built = [
        source.with_name(source.stem + infix + suffix)
        for infix in ("", MYPYC_LIBRARY_INFIX)
        for suffix in EXTENSION_SUFFIXES
    ]
    return source, [path for path in built if path.exists()]


def running_compiled() -> list[str]:
    """The gateway modules this process imported as extension modules."""
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name.startswith("gateway.")
        and not name.endswith(MYPYC_LIBRARY_INFIX)
        and str(getattr(module, "__file__", "") or "").endswith(tuple(EXTENSION_SUFFIXES))
    )


def source_digest(module: str) -> str:
    """The SHA-256 of a hot-path module's source, as it is now."""
    source, _ = compiled_source(module)
    return hashlib.sha256(source.read_bytes()).hexdigest()


def record_build() -> None:
    """After a build: note the source each compiled module was built from (see `stale_builds`)."""
    built = {module: source_digest(module) for module in HOT_PATH if compiled_source(module)[1]}
    (PACKAGE_DIR / BUILD_RECORD).write_text(json.dumps(built, indent=1, sort_keys=True) + "\n")


def stale_builds() -> list[str]:
    """Compiled hot-path modules whose source has changed since they were built (make compile).

    Judged by content, not by time: a checkout or a touch changes a source's mtime, and
    the build leaves a module alone when mypyc's C output for it comes out the same.
    """
    try:
        recorded = json.loads((PACKAGE_DIR / BUILD_RECORD).read_text())
    except (OSError, ValueError):
        recorded = {}
    return [
        module
        for module in HOT_PATH
        if compiled_source(module)[1] and recorded.get(module) != source_digest(module)
    ]


if pure_python_forced() and not any(isinstance(finder, SourceOnlyFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, SourceOnlyFinder())
