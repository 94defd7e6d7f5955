"""A table built off the loop: in another thread, with the garbage collector paused meanwhile and
back on after, whether the build succeeds or fails; its error reaches the caller as raised."""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest

from gateway.control_plane.off_loop import built_off_the_loop
from gateway.core.config import ConfigError
from gateway.core.planfile import parse_plan_set
from gateway.request_path.runtime import as_table
from tests.conftest import FIXED


def test_the_build_runs_in_another_thread_with_collections_paused_and_resumed() -> None:
    seen: dict[str, object] = {}

    def build(path: object) -> object:
        seen["thread"] = threading.current_thread() is not threading.main_thread()
        seen["collecting"] = gc.isenabled()
        return as_table(path)  # type: ignore[arg-type]

    table = asyncio.run(built_off_the_loop(build, FIXED))
    assert table.version == "2023-03-06-billing-fixed"  # type: ignore[attr-defined]
    assert seen == {"thread": True, "collecting": False}
    assert gc.isenabled()


def test_a_build_that_fails_raises_to_the_caller_and_collections_resume() -> None:
    with pytest.raises(ConfigError):
        asyncio.run(built_off_the_loop(parse_plan_set, "schema = 1\nversion = 3\n", "<pushed>"))
    assert gc.isenabled()
