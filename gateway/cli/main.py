"""`gw467`: the parser and the dispatch to one module per command.

Every error is one line on stderr (`gw467: error: ...`) with the exit code of
`gateway.cli.errors`; no command prints a traceback for bad input, and Ctrl-C ends any
command with 130. `gw467` with no command prints the help and exits 2, as a usage error
does, so a script that forgot the command fails.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from gateway import __version__
from gateway.cli import (
    admin,
    catalogue,
    check,
    diff,
    explain,
    impact,
    matrix,
    replay,
    serve,
    test,
    traffic,
    verify,
)
from gateway.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from gateway.core.config import ConfigError

COMMANDS = (serve, admin, check, explain, matrix, replay, verify, diff, impact, traffic, test, catalogue)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gw467",
        description="API-gateway entitlement simulator: the Twitter error-467 outage of 2023-03-06.",
    )
    parser.add_argument("--version", action="version", version=f"gw467 {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    previous = signal.signal(signal.SIGINT, _interrupt)
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print("gw467: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        # After a Ctrl-C, SIGINT stays ignored: the process is ending, and its clean-up must
        # not be cut short. Otherwise (--help and --version leave by SystemExit) restore it.
        if signal.getsignal(signal.SIGINT) is _interrupt:
            signal.signal(signal.SIGINT, previous)


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        code: int = args.handler(args)
        return code
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as error:
        print(f"gw467: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    """The first Ctrl-C ends the command (exit 130); any more are ignored while it cleans up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
