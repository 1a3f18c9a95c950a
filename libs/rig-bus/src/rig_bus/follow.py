"""A per-process reader of a whole stream, beside the consumer group that shares the stream among replicas.

A consumer group hands each entry to one replica. Some facts every replica must hear at once (a revoked
token): each process also follows the stream with a plain `XREAD` of its own. Where it starts makes it sound
after restarts: at the first entry its group has not yet handled (its oldest pending entry, else the one after
the group's last-delivered id). What lies before that was handled, so its effects are in the service's
database; what lies after is still in the stream, because trimming never goes past an entry a group still needs
(`rig_bus.trim`). The service therefore reads its database *after* `catch_up()` (`rig_kit.ServiceKit.start`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from rig_bus.consumer import BatchHandler
from rig_bus.groups import entry_id
from rig_bus.messages import Delivery, decode_fields, text

log = logging.getLogger(__name__)

_MAX_SEQ = 2**64 - 1

STOP_GRACE_S = 5.0
"""How long stopping waits, beyond one blocking read, for the loop to end."""

Reply = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]


def before(entry: str) -> str:
    """The id just before `entry`, so that `XREAD` (which reads after an id) starts at `entry` itself."""
    ms, seq = entry_id(entry)
    if seq > 0:
        return f"{ms}-{seq - 1}"
    return f"{ms - 1}-{_MAX_SEQ}" if ms > 0 else "0-0"


async def unhandled_from(client: aioredis.Redis, stream: str, group: str) -> str:
    """The id after which `group` may not yet have handled every entry (XREAD from it misses nothing unhandled).

    The group's last-delivered id is read before its pending entries: the group only moves forward, so an
    earlier last-delivered id can only make the reader start earlier, never skip an entry.
    """
    try:
        groups = {text(g["name"]): g for g in await client.xinfo_groups(stream)}
    except ResponseError:  # no such stream yet: everything it will hold is new
        return "0-0"
    if group not in groups:
        return "0-0"
    delivered = text(groups[group]["last-delivered-id"])
    pending = await client.xpending(stream, group)
    if pending["pending"]:
        return before(text(pending["min"]))
    return delivered


class StreamFollower:
    """Hands every entry of `stream` from its group's unhandled point on to `handler`, in this process."""

    def __init__(self, stream: str, group: str, handler: BatchHandler, *, block_ms: int = 250,
                 count: int = 500, retry_s: float = 0.5) -> None:
        self.stream, self.group = stream, group
        self._handler = handler
        self._block_ms, self._count, self._retry_s = block_ms, count, retry_s
        self._client: aioredis.Redis | None = None
        self._last = "0-0"
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def catch_up(self, client: aioredis.Redis) -> int:
        """Find the group's unhandled point and hand over everything from there to the end; return how many."""
        self._client = client
        self._last = await unhandled_from(client, self.stream, self.group)
        seen = 0
        while read := await self._read(block_ms=None):
            seen += read
        return seen

    def start(self) -> None:
        """Keep following in the background (after `catch_up`)."""
        self._task = asyncio.create_task(self._follow_forever(), name=f"follow {self.stream}")

    async def stop(self) -> None:
        """Stop following: the loop ends after its current read (at most `block_ms`).

        It is asked to stop rather than cancelled, because cancelling a blocked XREAD of redis-py's pooled
        connection can leave the task waiting on the connection's teardown for good.
        """
        if self._task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait([self._task], timeout=self._block_ms / 1000 + STOP_GRACE_S)
        if not done:
            log.warning("following %s did not stop within %.1fs; leaving it", self.stream, STOP_GRACE_S)
            self._task.cancel()
        elif not self._task.cancelled() and (error := self._task.exception()) is not None:
            log.warning("following %s had failed: %r", self.stream, error)
        self._task = None

    async def _read(self, block_ms: int | None) -> int:
        if self._client is None:
            raise RuntimeError("follower used before catch_up(): start the bus first")
        reply = cast("Reply", await self._client.xread({self.stream: self._last}, count=self._count,
                                                        block=block_ms))
        entries = reply[0][1] if reply else []
        if not entries:
            return 0
        deliveries = [Delivery(self.stream, i.decode(), decode_fields(f)) for i, f in entries]
        self._last = deliveries[-1].entry_id
        try:
            await self._handler(deliveries)
        except Exception:  # the group's consumer handles (and dead-letters) these entries too: go on
            log.exception("following %s: handler failed on %d entries up to %s", self.stream, len(deliveries),
                          self._last)
        return len(deliveries)

    async def _follow_forever(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                await self._read(block_ms=self._block_ms)
                if failing:
                    log.info("following %s again from %s", self.stream, self._last)
                failing = False
            except (RedisError, OSError) as error:
                if not failing:  # once per outage, not every half second
                    log.warning("following %s: Valkey unreachable (%s); retrying every %.1fs from %s",
                                self.stream, error, self._retry_s, self._last)
                failing = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._retry_s)
