"""`gw467`: the parser and the dispatch to one module per command.

Every error is one line on stderr (`gw467: error: ...`) with the exit code of
`gateway.cli.errors` (a file with several problems: a line each, up to `--max-problems`); no
command prints a traceback for bad input, and Ctrl-C ends any command with 130. `gw467` with
no command prints the help and exits 2, as a usage error does, so a script that forgot the
command fails. A command whose extra is not installed is still listed, and says in one line
which extra to install; a closed stdout (`| head`) ends a command quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any, NoReturn

from gateway import __version__
from gateway.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from gateway.core.config import ConfigError
from gateway.core.extras import MissingExtra

# The modules of gateway.cli, one per command, each with `register(commands)`. They are imported
# one by one, so that `gw467 --version` and `gw467 check` run on the core alone and a command
# whose extra is missing says so instead of taking the others down with it.
COMMANDS = (
    "serve",
    "admin",
    "check",
    "explain",
    "matrix",
    "replay",
    "verify",
    "diff",
    "impact",
    "traffic",
    "test",
    "catalogue",
    "schema",
)
# Exit status of a command whose stdout was closed early, as a shell reports a SIGPIPE death.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def problem_count(text: str) -> int:
    """An argparse type: how many problems of a bad file to print, at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of problems, 1 or more")
    return int(text)


MAX_PROBLEMS = 20


def _add_max_problems(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--max-problems",
        type=problem_count,
        metavar="N",
        default=default,
        help=f"print at most N problems of a file that cannot be used, one a line (default: {MAX_PROBLEMS})",
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, the parser of that one command and no other, so
    `gw467 check` does not import what `gw467 replay` draws charts with."""
    parser = _Parser(
        prog="gw467",
        description="API-gateway entitlement simulator: the Twitter error-467 outage of 2023-03-06.",
    )
    parser.add_argument("--version", action="version", version=f"gw467 {__version__}")
    _add_max_problems(parser, MAX_PROBLEMS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if only is None else (only,):
        try:
            command = importlib.import_module(f"gateway.cli.{name}")
        except ModuleNotFoundError as error:
            missing = (error.name or "gateway").split(".")[0]
            if missing == "gateway":
                raise
            _register_unavailable(commands, name, MissingExtra(missing, f"gw467 {name}"))
        else:
            command.register(commands)
    # After the command too (`gw467 check FILE --max-problems 50`); SUPPRESS keeps the one given first.
    for subparser in commands.choices.values():
        _add_max_problems(subparser, argparse.SUPPRESS)
    return parser


def _register_unavailable(commands: Any, name: str, missing: MissingExtra) -> None:
    """List the command, and make running it print which extra to install (exit 2)."""
    parser = commands.add_parser(name, help=f"(needs gw467[{missing.extra}])", add_help=False)
    parser.add_argument("arguments", nargs=argparse.REMAINDER)

    def unavailable(args: argparse.Namespace) -> int:
        raise missing

    parser.set_defaults(handler=unavailable)


def main(argv: Sequence[str] | None = None) -> int:
    previous = signal.signal(signal.SIGINT, _interrupt)
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print("gw467: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _stdout_closed()
    finally:
        # After a Ctrl-C, SIGINT stays ignored: the process is ending, and its clean-up must
        # not be cut short. Otherwise (--help and --version leave by SystemExit) restore it.
        if signal.getsignal(signal.SIGINT) is _interrupt:
            signal.signal(signal.SIGINT, previous)


def _command_named(argv: Sequence[str]) -> str | None:
    """The command `argv` names, when its first positional word is one; else None."""
    words = iter(argv)
    for word in words:
        if word == "--max-problems":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser(_command_named(sys.argv[1:] if argv is None else argv))
    args = argparse.Namespace()
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
    except MissingExtra as error:
        print(f"gw467: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as error:
        cap = getattr(args, "max_problems", MAX_PROBLEMS)
        lines = error.lines()
        for line in lines[:cap]:
            print(f"gw467: error: {line}", file=sys.stderr)
        if len(lines) > cap:
            more = len(lines) - cap
            print(
                f"gw467: error: {more} more problem{'s' if more > 1 else ''}; --max-problems to see them",
                file=sys.stderr,
            )
        return EXIT_USAGE


def _stdout_closed() -> int:
    """The reader of stdout went away (`gw467 ... | head`): stop quietly, as Unix tools do.

    Python would otherwise print the BrokenPipeError, and again when it flushes stdout at exit;
    pointing stdout at /dev/null makes that last flush succeed (the Python docs' recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    """The first Ctrl-C ends the command (exit 130); any more are ignored while it cleans up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
