"""The start marker: a file a runner waits for, touched when Locust's load begins.

Touched by the master or the local runner, never by a worker, so a push or a
measurement timed from it starts when the load does, not when Locust launched.
"""

from __future__ import annotations

import os
from pathlib import Path

from locust.env import Environment
from locust.runners import WorkerRunner


def touch_start_marker(environment: Environment, variable: str) -> None:
    """Touch the file named by environment variable `variable`, if set, unless this is a worker."""
    marker = os.environ.get(variable)
    if marker and not isinstance(environment.runner, WorkerRunner):
        Path(marker).touch()
