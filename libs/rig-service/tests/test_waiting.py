"""Waiting for an event with a limit: set, timed out, and a cancellation that always gets through."""

import asyncio
import contextlib

import pytest

from rig_service.waiting import stop_task, wait_set


async def test_a_set_event_ends_the_wait_and_a_quiet_one_times_out():
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_set(event, 5.0) is True
    assert await wait_set(asyncio.Event(), 0.01) is False


async def test_a_cancellation_arriving_as_the_event_is_set_still_cancels():
    # The race Python 3.11's wait_for loses: the waiter is cancelled in the same loop turn as its event is set.
    for _ in range(200):
        event = asyncio.Event()
        waiter = asyncio.create_task(wait_set(event, 5.0))
        await asyncio.sleep(0)
        event.set()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter


async def test_stopping_a_task_that_loses_its_first_cancellation_cancels_it_again():
    # What a Valkey command does to its caller on 3.11 when the cancellation lands in redis-py's wait_for.
    seen: list[str] = []

    async def drops_one_cancellation() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            seen.append("dropped")
        await asyncio.sleep(60)

    task = asyncio.create_task(drops_one_cancellation())
    await asyncio.sleep(0)
    async with asyncio.timeout(5):
        await stop_task(task, again_after_s=0.05)
    assert task.cancelled() and seen == ["dropped"]


async def test_stopping_a_task_does_not_swallow_the_callers_cancellation():
    deaf_until = asyncio.Event()

    async def deaf() -> None:
        while not deaf_until.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    task = asyncio.create_task(deaf())
    stopper = asyncio.create_task(stop_task(task, again_after_s=60))
    await asyncio.sleep(0.05)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    assert not task.done()
    deaf_until.set()
    await task
