"""Whether a server may run other copies of this process, and the admin API's refusal when it may.

A push changes the stage of the process that answers it; without a shared store, the other
workers (and any worker the server starts later, from the plan file) go on with the old table.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

GUNICORN_PREFIX = "gunicorn/"


class SplitAdminApi(Exception):
    """The admin API is on, the store is this process's own, and the server may run several processes.

    `str()` is the one-line refusal."""


def sibling_processes() -> str | None:
    """How the server running this process may run others beside it, or None when nothing says so.

    - gunicorn (any worker class, UvicornWorker included): its arbiter puts SERVER_SOFTWARE=
      gunicorn/VERSION in the environment its workers inherit. Whatever `-w` says, gunicorn adds
      workers on SIGTTIN and replaces them (`--max-requests`, timeouts, SIGHUP), and a replacement
      starts from the plan file, not from what was pushed.
    - a process started by `multiprocessing`: each worker of `uvicorn --workers N` (N > 1; with
      one, uvicorn serves in its own process), of `uvicorn --reload`, and of hypercorn, whose
      workers (`-w 1` included) are always such processes, replaced when they exit.
    A server that forks workers some other way is not seen: give it a shared store.
    """
    if os.environ.get("SERVER_SOFTWARE", "").startswith(GUNICORN_PREFIX):
        return "this is a gunicorn worker (gunicorn adds and replaces workers, whatever -w says)"
    if multiprocessing.parent_process() is not None:
        return f"this is one of the worker processes of {_program()}"
    return None


def refuse_split_admin_api(admin_token: str | None, shared_store: bool, processes: str | None) -> None:
    """Raise SplitAdminApi when the admin API is on (`admin_token`) without a shared store while
    `processes` (see `sibling_processes`, or the caller's own reason) says there may be several."""
    if admin_token and not shared_store and processes:
        raise SplitAdminApi(
            f"the gw467 admin API needs one process or a shared store, and {processes}: a push would "
            "reach only the process that answered it; give it a shared store, --store redis://HOST:PORT/DB "
            "(gw467 serve), GW467_STORE (the app factory) or store= (the middleware), or turn the admin "
            "API off"
        )


def _program() -> str:
    """The server's name: a spawned process inherits its parent's argv (`.../bin/uvicorn`)."""
    path = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    return path.parent.name if path.name == "__main__.py" else path.name
