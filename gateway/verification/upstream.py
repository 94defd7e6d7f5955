"""A recording upstream for tests: answers 200 and keeps every scope it was called with."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send


class RecordingUpstream:
    """An ASGI app that records the scope of each request it gets and answers 200 `upstream`."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-upstream", b"yes")]})
        await send({"type": "http.response.body", "body": b"upstream"})
