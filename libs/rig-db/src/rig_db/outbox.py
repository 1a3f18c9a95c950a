"""The transactional outbox: events are written with the state change, in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg

from rig_contracts import Envelope

NOTIFY_CHANNEL = "rig_outbox"
"""Channel a commit notifies (payload: the schema), so the relay wakes at once instead of waiting to poll."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An event bound for a stream, with flat extra fields and an optional wake list (assignments)."""

    event: Envelope
    stream: str
    extra: Mapping[str, str] = field(default_factory=dict)
    signal: str | None = None


async def add(conn: asyncpg.Connection, entries: Sequence[OutboxEntry]) -> None:
    """Write `entries` to the outbox of the connection's schema; call inside the state change's transaction."""
    if not entries:
        return
    await conn.executemany(
        "INSERT INTO outbox (event_id, stream, payload, extra, signal) VALUES ($1, $2, $3, $4::jsonb, $5)",
        [(e.event.id, e.stream, e.event.to_json(), json.dumps(dict(e.extra)) if e.extra else None, e.signal)
         for e in entries],
    )
    await conn.execute("SELECT pg_notify($1, current_schema())", NOTIFY_CHANNEL)
