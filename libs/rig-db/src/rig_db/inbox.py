"""The inbox: a batch's projection writes and its handled-event rows commit in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from prometheus_client import Counter

from rig_bus import Delivery
from rig_contracts import Event

DUPLICATES = Counter("rig_inbox_duplicates_total", "Events dropped because the inbox had them", ["schema"])

Apply = Callable[[asyncpg.Connection, Sequence[Event]], Awaitable[None]]
"""Writes a batch of new events to the projection, on the connection of the inbox's transaction."""


async def claim_new(conn: asyncpg.Connection, event_ids: Sequence[str]) -> set[str]:
    """Record `event_ids` as handled; return the ones not recorded before (call inside a transaction)."""
    rows = await conn.fetch(
        "INSERT INTO inbox (event_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id::text",
        list(event_ids))
    return {r["event_id"] for r in rows}


class InboxProjection:
    """A bus batch handler: parses the events, drops ones already handled, applies the rest, all in one commit."""

    def __init__(self, pool: asyncpg.Pool, schema: str, apply: Apply) -> None:
        self._pool = pool
        self._schema = schema
        self._apply = apply

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        """Handle one batch atomically; an error rolls back the projection and the inbox rows together."""
        events = unique_events(deliveries)
        async with self._pool.acquire() as conn, conn.transaction():
            new_ids = await claim_new(conn, [e.id for e in events])
            fresh = [e for e in events if e.id in new_ids]
            if len(fresh) < len(events):
                DUPLICATES.labels(self._schema).inc(len(events) - len(fresh))
            if fresh:
                await self._apply(conn, fresh)


def unique_events(deliveries: Sequence[Delivery]) -> list[Event]:
    """The batch's events, each id once.

    Raises (ValueError) on an entry that holds no event this code can read (garbage, an unknown type, a `v` with
    no upcaster): the batch then fails, is retried entry by entry, and the unreadable entry stays pending until
    it is dead-lettered (`rig:dead`), where an operator retries it once a newer version of the consumer runs.
    Every consumer of `rig:events` takes this one path, so no event is acknowledged unread.
    """
    seen: set[str] = set()
    unique = []
    for delivery in deliveries:
        event = delivery.event
        if event.id not in seen:
            seen.add(event.id)
            unique.append(event)
    return unique
