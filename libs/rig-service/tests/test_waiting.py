"""Waiting for an event with a limit: set, timed out, and a cancellation that always gets through."""

import asyncio

import pytest

from rig_service.waiting import wait_set


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
