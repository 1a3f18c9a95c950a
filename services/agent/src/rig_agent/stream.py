"""The agent's side of `assignments:{agent}` (docs/design.md sections 3, 4): take, keep claimed, acknowledge.

Every command here is one the pool's ACL user may run (streams, lists, transactions; no scripts): an agent
never touches another pool's keys or `rig:events`.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from rig_agent.assignment import Assignment
from rig_contracts import Names

log = logging.getLogger(__name__)

GROUP = "agents"
"""The consumer group every agent of a pool joins (the public runtime's name too)."""


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(raw: Any) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in cast("dict[Any, Any]", raw).items()}


class AssignmentStream:
    """One agent process's consumer in the `agents` group of its pool's assignments stream."""

    def __init__(self, client: aioredis.Redis, names: Names, agent: str, consumer: str,
                 *, reclaim_idle_ms: int) -> None:
        self._client = client
        self.key = names.assignments(agent)
        self.signal_key = names.signal(agent)
        self.consumer = consumer
        self._reclaim_idle_ms = reclaim_idle_ms
        self._recovered = False

    async def join(self) -> None:
        """Create the group at the stream's start (so nothing the router wrote before is missed), if missing."""
        try:
            await self._client.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def take(self, block_ms: int) -> Assignment | None:
        """The next assignment: first what this consumer held before a restart, then an abandoned one, then new."""
        if not self._recovered:
            own = await self._read("0", block_ms=None)
            if own is not None:
                return own
            self._recovered = True
        return await self._reclaim() or await self._read(">", block_ms=block_ms)

    async def _read(self, start: str, *, block_ms: int | None) -> Assignment | None:
        reply = await self._client.xreadgroup(GROUP, self.consumer, {self.key: start}, count=1, block=block_ms)
        for _stream, entries in cast("list[tuple[Any, list[tuple[Any, Any]]]]", reply or []):
            for entry_id, raw in entries:
                if raw:  # an entry trimmed away while it was pending comes back without fields
                    return await self._assignment(_text(entry_id), _fields(raw))
                await self.ack(_text(entry_id))
        return None

    async def _reclaim(self) -> Assignment | None:
        reply = await self._client.xautoclaim(self.key, GROUP, self.consumer, self._reclaim_idle_ms,
                                              start_id="0-0", count=1)
        claimed = cast("list[tuple[Any, Any]]", reply[1])
        for entry_id, raw in claimed:
            if raw:
                assignment = await self._assignment(_text(entry_id), _fields(raw))
                log.warning("took over assignment %s of %s (delivery %d): its agent stopped refreshing it",
                            assignment.entry_id, self.key, assignment.deliveries)
                return assignment
            await self.ack(_text(entry_id))
        return None

    async def _assignment(self, entry_id: str, fields: dict[str, str]) -> Assignment:
        rows = await self._client.xpending_range(self.key, GROUP, min=entry_id, max=entry_id, count=1)
        deliveries = int(cast("list[dict[str, Any]]", rows)[0]["times_delivered"]) if rows else 1
        return Assignment(entry_id, fields, deliveries)

    async def keep_claimed(self, entry_id: str) -> None:
        """Reset the entry's idle time, so no other agent takes over a run that is still going."""
        await self._client.xclaim(self.key, GROUP, self.consumer, 0, [entry_id], justid=True)

    async def ack(self, entry_id: str) -> None:
        """The assignment is finished (done, or handed back to people): no one takes it again."""
        await self._client.xack(self.key, GROUP, entry_id)

    async def abandon(self, entry_id: str) -> None:
        """Leave the entry pending: after the reclaim idle time it is delivered again, counted by XPENDING."""

    async def take_wake_entry(self) -> None:
        """Remove one wake entry, as each assignment taken for the first time does (docs/design.md section 3)."""
        await self._client.lpop(self.signal_key)

    async def drop_stale_wake_entries(self) -> int:
        """With nothing pending and nothing new, remaining wake entries only keep waking idle agents: drop them.

        Safe against a concurrent assignment: the router adds entry and wake entry together, and the caller reads
        the stream again after this before it may exit.
        """
        summary = await self._client.xpending(self.key, GROUP)
        if int(summary.get("pending") or 0):
            return 0
        stale = int(await self._client.llen(self.signal_key))
        if stale:
            await self._client.delete(self.signal_key)
            log.info("dropped %d wake entries of %s with no assignment left to take", stale, self.signal_key)
        return stale
