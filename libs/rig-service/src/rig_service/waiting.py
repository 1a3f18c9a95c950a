"""Waiting for an event with a time limit, and stopping a task, without losing a cancellation.

Python 3.11's `asyncio.wait_for` drops a cancellation that arrives as the awaited thing completes (fixed in 3.12,
gh-86296): a background loop cancelled at that moment runs on, and whoever stops it waits forever. The
`asyncio.timeout` context manager does not have that race, so our own waits use it (`wait_set`). Libraries still
use `wait_for` inside the calls we make: redis-py 8 sends every command through `wait_for(…, socket_timeout)`
(its default socket timeout is 5 s), so a task cancelled during any Valkey command may never see the
cancellation. A loop that must stop therefore also checks a flag of its own, and `stop_task` cancels again.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def wait_set(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait until `event` is set or `timeout_s` has passed; whether it was set."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True


async def stop_task(task: asyncio.Task[Any], *, again_after_s: float) -> None:
    """Cancel `task` and wait until it has ended, cancelling it again every `again_after_s` while it runs on.

    A cancellation lost inside a library call (see above) is delivered by the next one; a task that is still
    cleaning up after the first one is cut short only once `again_after_s` has passed. The caller's own
    cancellation is never swallowed: it ends the wait (the task keeps its cancellation and ends on its own).
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=again_after_s)
