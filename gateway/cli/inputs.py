"""argparse types for the files a command reads: a path, or the name of a file the package ships."""

from __future__ import annotations

import argparse

from gateway.core.config import ConfigError
from gateway.core.shipped import Kind, locate, shipped_names

PLAN_FILE_HELP = f"plan file, or a shipped plan file's name ({', '.join(shipped_names('plans'))})"
SCENARIO_HELP = f"scenario file, or a shipped scenario's name ({', '.join(shipped_names('scenarios'))})"


def plan_file(text: str) -> str:
    """A plan file's path, or a shipped plan file's name (`2023-02-baseline`)."""
    return _located("plans", text)


def scenario_file(text: str) -> str:
    """A scenario file's path, or a shipped scenario's name (`2023-03-06-error-467`)."""
    return _located("scenarios", text)


def _located(kind: Kind, text: str) -> str:
    try:
        return str(locate(kind, text))
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
