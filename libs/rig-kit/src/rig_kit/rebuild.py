"""Rebuilding a projection from the event store: pause live reading, reset, replay, resume (docs/design.md §4)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg

from rig_bus import Delivery
from rig_bus.consumer import StreamConsumer
from rig_contracts.entries import EVENT_FIELD

log = logging.getLogger(__name__)

END_FIELD = "end"
"""A replay stream entry with this field (the rebuild id) marks the end of a replay."""

Reset = Callable[[asyncpg.Connection], Awaitable[None]]
"""Empties a projection's tables (the inbox is emptied beside it)."""


@dataclass
class RebuildState:
    """Where a service's projection stands."""

    state: str = "live"
    rebuild_id: str | None = None
    replayed: int = 0
    last_seq: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Rebuilder:
    """Runs one service's rebuilds; `handle` is the replay stream's batch handler."""

    def __init__(self, pool: asyncpg.Pool, reset: Reset, apply_batch: Callable[[Sequence[Delivery]], Awaitable[None]],
                 live: StreamConsumer, trim_replays: Callable[[], Awaitable[int]]) -> None:
        self._pool = pool
        self._trim_replays = trim_replays
        self._reset = reset
        self._apply_batch = apply_batch
        self._live = live
        self.status = RebuildState()

    async def begin(self, rebuild_id: str, from_seq: int | None) -> None:
        """Pause live reading; with no `from_seq`, empty the projection and the inbox in one transaction."""
        await self._live.pause()
        if from_seq is None:
            async with self._pool.acquire() as conn, conn.transaction():
                await self._reset(conn)
                await conn.execute("TRUNCATE inbox")
        self.status = RebuildState("rebuilding", rebuild_id)
        log.info("rebuild %s began (%s)", rebuild_id, "full" if from_seq is None else f"from seq {from_seq}")

    async def handle(self, deliveries: Sequence[Delivery]) -> None:
        """Apply replayed events; at this rebuild's end marker, resume live reading."""
        events = [d for d in deliveries if END_FIELD not in d.fields]
        if events:
            await self._apply_batch(events)
            self.status.replayed += len(events)
            self.status.last_seq = max(int(d.fields.get("seq", 0)) for d in events)
        for marker in (d for d in deliveries if END_FIELD in d.fields):
            if marker.fields[END_FIELD] == self.status.rebuild_id and self.status.state == "rebuilding":
                await self._live.resume()
                await self._trim_replays()
                self.status.state = "live"
                self.status.done.set()
                log.info("rebuild %s finished after %d events; reading live again",
                         self.status.rebuild_id, self.status.replayed)

    def describe(self) -> dict[str, object]:
        """What `GET /api/admin/{service}/rebuild` answers."""
        return {"state": self.status.state, "rebuild_id": self.status.rebuild_id,
                "replayed": self.status.replayed, "last_seq": self.status.last_seq}


def replay_entry(seq: int, body: str) -> dict[str, str]:
    """The fields of one replayed event."""
    return {EVENT_FIELD: body, "seq": str(seq)}
