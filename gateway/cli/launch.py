"""The `gw467` entry point: the command line, or one line saying that the `cli` extra is missing.

The commands (and so rich, uvicorn, matplotlib) are imported in `main`, not at the top, so that
a middleware-only install says what to install instead of printing an ImportError traceback.
"""

from __future__ import annotations

import importlib
import sys

from gateway.cli.errors import EXIT_USAGE


def main() -> int:
    try:
        command_line = importlib.import_module("gateway.cli.main")
    except ModuleNotFoundError as error:
        missing = (error.name or "gateway").split(".")[0]
        if missing == "gateway":
            raise
        print(
            f"gw467: error: the command line needs {missing}, which is not installed: "
            "pip install 'gw467[cli]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    code: int = command_line.main(sys.argv[1:])
    return code
