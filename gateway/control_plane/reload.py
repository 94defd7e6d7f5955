"""Re-reading the plan file a gateway was started from: `reload_plans`, and `ReloadOnHangup`,
which does it on SIGHUP (how `gw467 serve` is wrapped).

A file that reads, compiles and keeps every class on its side of the first-party line is
pushed directly to the gateway's deployment (this process, or the whole fleet, as an admin push
is); any problem is one line on the operations log, and the table in force stays.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.control_plane.deployment import Deployment, DeploymentUnavailable
from gateway.control_plane.off_loop import built_off_the_loop
from gateway.control_plane.stage_document import RolloutError
from gateway.core.config import ConfigError
from gateway.request_path.decision_log import OPERATIONS
from gateway.request_path.runtime import as_table
from gateway.request_path.stage import DIRECT


async def reload_plans(deployment: Deployment, path: str | Path, reason: str) -> bool:
    """Push the file at `path` directly, with `reason`; False (and one logged line) when it cannot be.

    The file is read and compiled in a worker thread: a large catalogue takes seconds, and the
    event loop goes on serving meanwhile; only the swap happens on the loop."""
    kept = deployment.gateway.table.version
    try:
        table = await built_off_the_loop(as_table, path)
        await deployment.push(table, DIRECT, who=reason, reason=reason)
    except (ConfigError, RolloutError, DeploymentUnavailable) as error:
        OPERATIONS.error(f"gw467: {reason}: kept version {kept}: {error}")
        return False
    OPERATIONS.info(f"gw467: {reason}: {path}: version {table.version} in force (was {kept})")
    return True


class ReloadOnHangup:
    """An ASGI wrapper: while the app is up (lifespan startup to shutdown), SIGHUP re-reads `path`.

    The handler runs on the event loop (`loop.add_signal_handler`), between requests' steps,
    never inside one: a request decides with one stage, old or new.
    """

    def __init__(self, app: ASGIApp, deployment: Deployment, path: str | Path) -> None:
        self.app = app
        self.deployment = deployment
        self.path = path
        self._pushes: set[asyncio.Task[bool]] = set()

    def _hangup(self) -> None:
        task = asyncio.get_running_loop().create_task(reload_plans(self.deployment, self.path, "SIGHUP"))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()

        async def receive_and_watch() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                loop.add_signal_handler(signal.SIGHUP, self._hangup)
            elif message["type"] == "lifespan.shutdown":
                loop.remove_signal_handler(signal.SIGHUP)
            return message

        await self.app(scope, receive_and_watch, send)
