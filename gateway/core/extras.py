"""The optional extras: which one brings which third-party module, and the one-line error when
a command needs a module whose extra is not installed (`MissingExtra`, exit 2, no traceback).

The core (`EntitlementMiddleware`) needs none of them; tests/test_extras.py reads the import graph
from each extra's entry points and checks it against pyproject.toml and this table.
"""

from __future__ import annotations

from typing import Final

# Top-level module -> the extra that brings it where a command needs it. The `cli` extra brings
# everything the gw467 command imports; the others add one capability each.
EXTRA_OF_MODULE: Final[dict[str, str]] = {
    "rich": "cli",
    "uvicorn": "cli",
    "httpx": "cli",
    "matplotlib": "cli",
    "hypothesis": "cli",
    "tomli_w": "cli",
    "redis": "fleet",
    "yaml": "openapi",
    "duckdb": "impact",
    "pyarrow": "impact",
    "pyspark": "spark",
    "pandas": "spark",
}


class MissingExtra(Exception):
    """What a command needs is not installed; `str()` is the whole line, naming the extra."""

    def __init__(self, module: str, needed_for: str) -> None:
        self.module = module
        self.extra = EXTRA_OF_MODULE.get(module, "cli")
        super().__init__(
            f"{needed_for} needs {module}, which is not installed: pip install 'gw467[{self.extra}]'"
        )
