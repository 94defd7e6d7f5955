"""`UsageError`: bad command-line input, printed by `gw467` as one line with exit code 2."""


class UsageError(Exception):
    """Bad command-line input; the message is the whole line to print."""
