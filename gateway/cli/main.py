"""`gw467`: the parser and the dispatch to one module per command.

Every error is one line on stderr (`gw467: error: ...`) with the exit code of
`gateway.cli.errors`; no command prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from gateway.cli import catalogue, check, diff, explain, matrix, replay, serve, test, traffic, verify
from gateway.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from gateway.core.config import ConfigError

COMMANDS = (serve, check, explain, matrix, replay, verify, diff, traffic, test, catalogue)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gw467",
        description="API-gateway entitlement simulator: the Twitter error-467 outage of 2023-03-06.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        code: int = args.handler(args)
        return code
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as error:
        print(f"gw467: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
