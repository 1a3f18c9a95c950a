"""Waiting for an event with a time limit, without losing a cancellation.

Python 3.11's `asyncio.wait_for` drops a cancellation that arrives as the awaited thing completes (fixed in 3.12,
gh-86296): a background loop cancelled at that moment runs on, and whoever stops it waits forever. The
`asyncio.timeout` context manager does not have that race.
"""

from __future__ import annotations

import asyncio


async def wait_set(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait until `event` is set or `timeout_s` has passed; whether it was set."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
