"""Waiting in tests for what other processes do: poll a check until it holds, or fail saying what never happened."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(check: Callable[[], Awaitable[Any]], *, within_s: float = 60.0, what: str = "condition",
                     every_s: float = 0.05, ignoring: tuple[type[Exception], ...] = ()) -> Any:
    """Poll `check` until it returns something truthy and return that; fail after `within_s` naming `what`.

    A check that raises one of `ignoring` (a service not answering yet) counts as not holding.

    The bound is generous on purpose: a test's speed is the time its condition takes, not the bound, and a CI
    machine under load may be many times slower than a quiet one.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not (result := await _quietly(check, ignoring)):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within_s} s waiting for {what}")
        await asyncio.sleep(every_s)
    return result


async def _quietly(check: Callable[[], Awaitable[Any]], ignoring: tuple[type[Exception], ...]) -> Any:
    try:
        return await check()
    except ignoring:
        return None
