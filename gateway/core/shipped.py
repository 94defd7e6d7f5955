"""The plan files and scenarios shipped in `gateway/data/`, found by name (`2023-02-baseline`).

Scenarios name their plan files by relative paths, which hold there as in the repository,
whose `plans/` and `scenarios/` are links to `gateway/data/`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from gateway.core.config import ConfigError

Kind = Literal["plans", "scenarios"]
_WHAT: dict[Kind, str] = {"plans": "plan file", "scenarios": "scenario"}


def shipped_directory(kind: Kind) -> Path:
    """Where the package keeps its plan files or scenarios (a regular directory once installed)."""
    return Path(str(resources.files("gateway").joinpath("data", kind)))


def shipped_names(kind: Kind) -> tuple[str, ...]:
    """The names the package ships, e.g. ('2023-02-baseline', '2023-03-06-billing', ...)."""
    return tuple(sorted(path.stem for path in shipped_directory(kind).glob("*.toml")))


def locate(kind: Kind, argument: str) -> Path:
    """`argument` itself when it is an existing file or a path; else the shipped file of that name.

    A bare name (no directory part, `.toml` optional) that is neither a file here nor shipped
    is a ConfigError listing the shipped names; a path that does not exist is left for the
    loader to report.
    """
    given = Path(argument)
    if given.exists() or given.name != argument:
        return given
    shipped = shipped_directory(kind) / f"{argument.removesuffix('.toml')}.toml"
    if shipped.is_file():
        return shipped
    names = ", ".join(shipped_names(kind))
    raise ConfigError(argument, "", f"no such file, nor a shipped {_WHAT[kind]} of that name ({names})")
