"""The reference for impact counts: each request pushed through `EntitlementMiddleware`, one by one.

An outcome is the gateway's refusal status, or "allowed" when the request reached the app. A
429 counts as allowed: quotas depend on the time and order of requests, which `gw467 impact`
does not replay (it judges entitlement), and a 429 is only ever given to an entitled request.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from gateway.core.decision import DecisionTable
from gateway.fronts.inprocess import call_asgi
from gateway.fronts.middleware import EntitlementMiddleware
from tests.test_middleware import RecordingApp

ENTITLEMENT_REFUSALS = (400, 401, 404, 467)


def outcomes(
    plans: Path | str | DecisionTable,
    requests: Iterable[tuple[str | None, str, str]],
    keys: Mapping[str, str],
) -> list[str]:
    """The outcome of each (client, method, target) under `plans`, sent with the client's key."""
    app = EntitlementMiddleware(RecordingApp(), plans)

    async def run() -> list[str]:
        found = []
        for client, method, target in requests:
            headers = [(b"authorization", f"Bearer {keys[client]}".encode())] if client else []
            status = (await call_asgi(app, method, target, headers)).status
            found.append(str(status) if status in ENTITLEMENT_REFUSALS else "allowed")
        return found

    return asyncio.run(run())


def expected_counts(
    old: Path | str,
    new: Path | str,
    requests: Sequence[tuple[str, str | None, str, str]],
    keys: Mapping[str, str],
) -> Counter[tuple[str | None, str, str, str]]:
    """(client, minute, old outcome, new outcome) -> requests, for (minute, client, method, target)."""
    plain = [(client, method, target) for _, client, method, target in requests]
    pairs = zip(outcomes(old, plain, keys), outcomes(new, plain, keys), strict=True)
    return Counter(
        (client, minute, before, after)
        for (minute, client, _, _), (before, after) in zip(requests, pairs, strict=True)
    )
