"""Where the gateway's own time goes, part by part, timed as it runs (compiled or not).

cProfile (`benchmarks.hot_path_profile`) cannot see inside compiled modules, so this
times the gateway's operations one by one, each called directly many times, and
sets them against the bare Starlette app's whole request and against the gateway's
whole overhead: the middleware in front of an ASGI app that does nothing, less that
app alone. The parts are the ones an allowed request and a 467 pay for. Printed
by `python -m benchmarks` when an in-process target misses, with what was tried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from benchmarks.apps import bare_app
from benchmarks.asgi_bench import KEY, METHOD, PATH
from benchmarks.asgi_driver import discard, http_scope, receive, time_batch
from benchmarks.settings import ALLOWING_PLANS, DENYING_PLANS
from gateway.core.credentials import bearer_key
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.fronts.settings import GatewaySettings
from gateway.request_path.responses import send_gateway_response

REPS = 5

# What has been tried on the hot path so far, shown beside the parts (docs/reference/performance.md).
TRIED = (
    "mypyc compiles the 11 hot-path modules (the Python sources stay the fallback; CI runs both)",
    "a quota-less plan skips `admit` and the store; refusal headers and bodies built once per rule",
    "statuses classified once (`status_kind`), the rule a typed value with its header bytes ready",
    "Authorization, overrides and x-gw467-*: one call, one loop over the headers (read_request)",
    "a plain tuple, not a NamedTuple, per ruling",
)

_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
}
_BODY: Message = {"type": "http.response.body", "body": b"ok"}


async def _nothing_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An upstream with no cost of its own: what is left over it is the gateway's."""
    await send(dict(_START))
    await send(_BODY)


@dataclass(frozen=True)
class Part:
    name: str
    nanoseconds: float


def _per_call(function: Callable[[], object], calls: int) -> float:
    """Nanoseconds per call, the fastest of REPS batches (the least disturbed by the machine)."""
    return _interleaved([function], calls)[0]


def _interleaved(functions: list[Callable[[], object]], calls: int) -> list[float]:
    """Nanoseconds per call of each function, batches taken in turn, the fastest of REPS each:
    figures to subtract from one another are measured side by side, not minutes apart."""
    best = [float("inf")] * len(functions)
    for _ in range(REPS):
        for index, function in enumerate(functions):
            started = time.perf_counter_ns()
            for _ in range(calls):
                function()
            best[index] = min(best[index], (time.perf_counter_ns() - started) / calls)
    return best


def _run_to_end(make: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """A call that drives a coroutine that never suspends (these never do) without an event loop."""

    def call() -> None:
        coroutine = make()
        try:
            coroutine.send(None)
        except StopIteration:
            return
        coroutine.close()
        raise RuntimeError("the timed coroutine suspended; it cannot be timed without a loop")

    return call


def _asgi_call(app: Any, scope: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> Callable[[], None]:
    def make() -> Coroutine[Any, Any, None]:
        request_scope = dict(scope)
        request_scope["headers"] = list(headers)
        return app(request_scope, receive, discard)  # type: ignore[no-any-return]

    return _run_to_end(make)


def _bare_request_ns(requests: int) -> float:
    app = bare_app()
    scope, headers = http_scope(METHOD, PATH, KEY)
    best = float("inf")
    for _ in range(REPS):
        best = min(best, asyncio.run(time_batch(app, scope, headers, requests)) / requests)
    return best


def parts(requests: int) -> list[Part]:
    """The bare request, the gateway's whole overhead, and each operation inside it."""
    scope, headers = http_scope(METHOD, PATH, KEY)
    authorization = [value for name, value in headers if name == b"authorization"]
    settings = GatewaySettings.embedded()
    allowing = settings.runtime(ALLOWING_PLANS)
    denying = settings.runtime(DENYING_PLANS)
    nothing, allowed_call, refused_call = _interleaved(
        [
            _asgi_call(_nothing_app, scope, headers),
            _asgi_call(EntitlementMiddleware(_nothing_app, gateway=allowing), scope, headers),
            _asgi_call(EntitlementMiddleware(_nothing_app, gateway=denying), scope, headers),
        ],
        requests,
    )
    table = allowing.table
    key = bearer_key(authorization)
    allowed, _ = allowing.decide(METHOD, PATH, authorization)
    refused, _ = denying.decide(METHOD, PATH, authorization)
    assert allowed.status is None and refused.status == 467, "the plans no longer allow / refuse the path"
    refusal_status = refused.status

    def send_refusal() -> Coroutine[Any, Any, None]:
        return send_gateway_response(discard, refusal_status, refused.rule, bodies=refused.bodies)

    def timed(name: str, function: Callable[[], object]) -> Part:
        return Part(name, _per_call(function, requests))

    return [
        Part("bare Starlette app: one whole request", _bare_request_ns(requests)),
        Part("gateway overhead, allowed (in front of a do-nothing app)", allowed_call - nothing),
        Part("gateway overhead, 467 (the app is never called)", refused_call - nothing),
        timed("  Gateway.decide: route, key, verdict", lambda: allowing.decide(METHOD, PATH, authorization)),
        timed("    route the path (RouteTrie.route)", lambda: table.routes.route(METHOD, PATH)),
        timed("    read the bearer key", lambda: bearer_key(authorization)),
        timed("    find its client (SHA-256, constant-time compare)", lambda: table.keys.find(key)),
        timed(
            "  Gateway.observe: SLIs, decision-log check",
            lambda: allowing.observe(allowed, 200, allowed.rule, False, 0.0, None),
        ),
        timed("  send a prepared 467 refusal", _run_to_end(send_refusal)),
    ]
