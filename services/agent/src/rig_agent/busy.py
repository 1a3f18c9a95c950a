"""`busy:{agent}` (docs/design.md section 3): alive while an agent of the pool works, lapsing on its own after."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from rig_service.waiting import wait_set

log = logging.getLogger(__name__)


class BusyMarker:
    """Keeps `busy:{agent}` a list of one entry whose TTL is refreshed while work is held."""

    def __init__(self, client: aioredis.Redis, key: str, holder: str, ttl_s: float) -> None:
        self._client = client
        self.key = key
        self._holder = holder
        self._ttl_ms = max(1, int(ttl_s * 1000))

    async def refresh(self) -> None:
        """(Re)write the marker with a full TTL; several agents of one pool share it, the last write wins."""
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self.key)
            pipe.rpush(self.key, self._holder)
            pipe.pexpire(self.key, self._ttl_ms)
            await pipe.execute()

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Keep the marker alive for the block; afterwards it lapses after its TTL (KEDA's cooldown starts then)."""
        await self.refresh()
        async with every(self._ttl_ms / 3000, self.refresh, f"refresh {self.key}"):
            yield


@contextlib.asynccontextmanager
async def every(period_s: float, action: Callable[[], Awaitable[None]], what: str) -> AsyncIterator[None]:
    """Run `action` every `period_s` in the background for the block; a failed call is logged and retried."""
    leaving = asyncio.Event()

    async def repeat() -> None:
        # Ends on the event, not only on cancellation: a cancellation landing in a Valkey command can be lost
        # (rig_service.waiting), and then leaving the block would wait forever while the action went on.
        while not await wait_set(leaving, period_s):
            try:
                await action()
            except (RedisError, OSError) as error:
                log.warning("cannot %s (%s); trying again in %.1fs", what, error, period_s)

    task = asyncio.create_task(repeat(), name=what)
    try:
        yield
    finally:
        leaving.set()
        task.cancel()  # cuts a call in flight short
        # Not `suppress(CancelledError)` around `await task`: that would also swallow a cancellation of the caller
        # arriving meanwhile, and the caller would run on.
        await asyncio.wait([task])
