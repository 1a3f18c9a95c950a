"""The transactional outbox: events are written with the state change, in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from rig_contracts import Envelope

NOTIFY_CHANNEL = "rig_outbox"
"""Channel a commit notifies (payload: the schema), so the relay wakes at once instead of waiting to poll.

The outbox's statement trigger (`sql/0003_outbox_notify.sql`) sends it; the name is repeated there."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An event bound for a stream, with flat extra fields and an optional wake list (assignments)."""

    event: Envelope
    stream: str
    extra: Mapping[str, str] = field(default_factory=dict)
    signal: str | None = None


def insert_sql(first: int = 1) -> str:
    """`INSERT INTO outbox ... SELECT` of the five arrays `columns` gives, as parameters `$first`..`$first+4`.

    A commit that inserted rows wakes the relay by itself (a statement trigger notifies `NOTIFY_CHANNEL`), so a
    writer may fold this into a larger statement: the rows and the wake cost no round trip of their own.
    """
    a, b, c, d, e = (f"${first + i}" for i in range(5))
    return ("INSERT INTO outbox (event_id, stream, payload, extra, signal) "
            f"SELECT * FROM unnest({a}::uuid[], {b}::text[], {c}::text[], {d}::jsonb[], {e}::text[])")


def columns(entries: Sequence[OutboxEntry]) -> tuple[list[Any], ...]:
    """The parameters of `insert_sql`: event ids, streams, payloads, extra fields (JSON) and signals."""
    return ([e.event.id for e in entries], [e.stream for e in entries], [e.event.to_json() for e in entries],
            [json.dumps(dict(e.extra)) if e.extra else None for e in entries], [e.signal for e in entries])


async def add(conn: asyncpg.Connection, entries: Sequence[OutboxEntry]) -> None:
    """Write `entries` to the outbox of the connection's schema; call inside the state change's transaction."""
    if entries:
        await conn.execute(insert_sql(), *columns(entries))
