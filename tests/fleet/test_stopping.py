"""A worker leaving the fleet stops its background loops, even one that survived a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from gateway.control_plane.fleet.deployment import cancel_and_wait


async def _survives_one_cancel(cancels_seen: list[int]) -> None:
    # Like a loop whose store call turned the cancellation into a StoreUnavailable it survives.
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancels_seen.append(1)
            if len(cancels_seen) > 1:
                raise


def test_a_loop_that_survives_the_first_cancel_is_cancelled_again_until_it_ends() -> None:
    async def main() -> list[int]:
        seen: list[int] = []
        task = asyncio.create_task(_survives_one_cancel(seen))
        quiet = asyncio.create_task(asyncio.sleep(3600))
        await asyncio.sleep(0)
        async with asyncio.timeout(10):  # a single cancel followed by `await task` waits forever
            await cancel_and_wait([task, quiet])
        assert task.cancelled() and quiet.cancelled()
        return seen

    assert asyncio.run(main()) == [1, 1]


def test_a_loop_that_failed_on_its_own_reports_its_error() -> None:
    async def broken() -> None:
        raise ValueError("the loop broke")

    async def main() -> None:
        task = asyncio.create_task(broken())
        await asyncio.sleep(0)
        await cancel_and_wait([task, asyncio.create_task(asyncio.sleep(3600))])

    with pytest.raises(ValueError, match="the loop broke"):
        asyncio.run(main())
