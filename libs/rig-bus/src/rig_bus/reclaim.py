"""The second loop: claim entries another consumer left pending, and dead-letter the ones delivered too often."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis.asyncio as aioredis

from rig_bus.messages import Delivery, decode_fields, text
from rig_bus.metrics import DEAD, RECLAIMED
from rig_contracts import Names

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pending:
    """An entry of XPENDING's extended form."""

    entry_id: str
    consumer: str
    idle_ms: int
    deliveries: int


class Reclaimer:
    """Moves idle pending entries of one group either to this consumer or, after N deliveries, to `rig:dead`."""

    def __init__(self, client: aioredis.Redis, names: Names, stream: str, group: str, consumer: str,
                 *, min_idle_ms: int, max_deliveries: int, count: int = 100) -> None:
        self._client = client
        self._names = names
        self._stream = stream
        self._group = group
        self._consumer = consumer
        self._min_idle_ms = min_idle_ms
        self._max_deliveries = max_deliveries
        self._count = count

    async def idle_entries(self) -> list[Pending]:
        """Pending entries of the group idle for at least the minimum idle time, oldest first."""
        rows = await self._client.xpending_range(
            self._stream, self._group, min="-", max="+", count=self._count, idle=self._min_idle_ms)
        return [Pending(text(r["message_id"]), text(r["consumer"]), int(r["time_since_delivered"]),
                        int(r["times_delivered"])) for r in cast("list[dict[str, Any]]", rows)]

    async def sweep(self, handle: Callable[[Sequence[Delivery]], Awaitable[None]]) -> int:
        """Dead-letter exhausted entries and hand the other idle ones to `handle`; return how many were seen."""
        idle = await self.idle_entries()
        exhausted = [p for p in idle if p.deliveries >= self._max_deliveries]
        retry = [p.entry_id for p in idle if p.deliveries < self._max_deliveries]
        for pending in exhausted:
            await self.dead_letter(pending)
        if retry:
            claimed = cast("list[tuple[bytes, dict[bytes, bytes] | None]]", await self._client.xclaim(
                self._stream, self._group, self._consumer, min_idle_time=self._min_idle_ms,
                message_ids=list[Any](retry)))
            counts = {p.entry_id: p.deliveries + 1 for p in idle}
            deliveries = [Delivery(self._stream, text(entry_id), decode_fields(fields), counts.get(text(entry_id), 2))
                          for entry_id, fields in claimed if fields is not None]
            if deliveries:
                RECLAIMED.labels(self._stream, self._group).inc(len(deliveries))
                log.info("reclaimed %d idle entries of %s/%s", len(deliveries), self._stream, self._group)
                await handle(deliveries)
        return len(idle)

    async def dead_letter(self, pending: Pending) -> None:
        """Append the entry, its error and its history to `rig:dead`, then acknowledge it for this group."""
        errors_key = self._names.errors(self._stream, self._group)
        found = await self._client.xrange(self._stream, pending.entry_id, pending.entry_id)
        fields = decode_fields(found[0][1] or {}) if found else {}
        error = await self._client.hget(errors_key, pending.entry_id)
        record = {
            "stream": self._stream, "group": self._group, "entry_id": pending.entry_id,
            "deliveries": str(pending.deliveries), "consumer": pending.consumer,
            "error": text(error) if error else "no error recorded (consumer died while handling it)",
            "failed_at": datetime.now(UTC).isoformat(), "fields": json.dumps(fields),
        }
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xadd(self._names.dead, record)  # type: ignore[arg-type]
            pipe.xack(self._stream, self._group, pending.entry_id)
            pipe.hdel(errors_key, pending.entry_id)
            await pipe.execute()
        DEAD.labels(self._stream, self._group).inc()
        log.error("dead-lettered %s of %s/%s after %d deliveries: %s",
                  pending.entry_id, self._stream, self._group, pending.deliveries, record["error"])

