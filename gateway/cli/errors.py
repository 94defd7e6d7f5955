"""Exit codes of every `gw467` command, and `UsageError`, bad input printed as one line.

Defined once here: 0 success, 1 the check ran and found a failure (a first-party loss, a broken
invariant, a failing test case, a route missing from the catalogue), 2 bad input (an option, a
file that cannot be read or used), 3 every test passed but coverage is below
`--coverage-threshold`, 130 interrupted.
"""

from typing import Final

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_BELOW_THRESHOLD: Final = 3
EXIT_INTERRUPTED: Final = 130


class UsageError(Exception):
    """Bad command-line input; the message is the whole line to print (exit code EXIT_USAGE)."""
