"""Building a decision table off the event loop, so that a push or reload of a large catalogue
never stalls the requests being served.

The build runs in a worker thread. That alone is not enough: it allocates hundreds of thousands
of objects, and CPython's cyclic garbage collector, triggered by those allocations, walks every
live object while it holds the GIL: measured on a 10,000-endpoint push, single pauses of 60 to
100 ms on the loop. So while a table is built the collector is paused, and the objects it leaves
are frozen (`gc.freeze`): tables are trees without reference cycles, freed by reference counting
when replaced, and later collections need not walk them again. The price: cyclic garbage made
while a table was built (a push takes about a second) is frozen with it and never collected, a
few kilobytes a push. One build at a time.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

_T = TypeVar("_T")
_P = ParamSpec("_P")
_BUILDING = threading.Lock()


def _build_without_collections(build: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    with _BUILDING:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            built = build(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()
        gc.freeze()
        return built


async def built_off_the_loop(build: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """`build(*args, **kwargs)` in a worker thread, without a garbage collection pausing the loop."""
    return await asyncio.to_thread(functools.partial(_build_without_collections, build, *args, **kwargs))
