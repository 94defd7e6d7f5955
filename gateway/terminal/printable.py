"""A file's own text as the terminal is to show it: control characters written as escapes.

Without rich, so that `gw467 check`, which runs on the core alone, can use it too.
"""

from __future__ import annotations

import re

# C0 and C1 control characters, DEL included: ESC alone can clear the screen or retitle the window.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with each control character written as its escape (`\\x1b`, `\\n`): what a plan file
    says (its version, a test's name) is shown, never obeyed by the terminal."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
