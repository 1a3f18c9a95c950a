"""The event store's SQL: append a batch, page through the log, read a range for a replay."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

_APPEND = """
INSERT INTO events (event_id, type, v, source, subject, key, at, body)
SELECT e.event_id, e.type, e.v, e.source, e.subject, e.key, e.at, e.body
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
     WITH ORDINALITY AS e(event_id, type, v, source, subject, key, at, body, n)
ORDER BY e.n
ON CONFLICT (event_id) DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the store received it: the envelope's indexed fields and its JSON text."""

    event_id: str
    type: str
    v: int
    source: str
    subject: str
    key: str
    at: datetime
    body: str

    @classmethod
    def from_json(cls, body: str) -> StoredEvent:
        """Read the envelope fields the store indexes; the data stays as it came (even for types we do not know)."""
        raw: dict[str, Any] = json.loads(body)
        try:
            return cls(str(raw["id"]), str(raw["type"]), int(raw.get("v", 1)), str(raw["source"]),
                       str(raw["subject"]), str(raw["key"]), datetime.fromisoformat(str(raw["at"])), body)
        except (KeyError, ValueError) as error:
            raise ValueError(f"not an event envelope ({error}): {body[:200]}") from error


async def append(conn: asyncpg.Connection, events: Sequence[StoredEvent]) -> int:
    """Append `events` in the given order, skipping ids already held; return how many were new."""
    status: str = await conn.execute(
        _APPEND, [e.event_id for e in events], [e.type for e in events], [e.v for e in events],
        [e.source for e in events], [e.subject for e in events], [e.key for e in events],
        [e.at for e in events], [e.body for e in events])
    return int(status.rsplit(maxsplit=1)[-1])


async def page(conn: asyncpg.Connection, after: int, limit: int, subject: str | None = None,
               kind: str | None = None) -> list[asyncpg.Record]:
    """Events after sequence `after`, in order, optionally of one subject and/or type."""
    return list(await conn.fetch(
        "SELECT seq, body FROM events WHERE seq > $1 AND ($2::text IS NULL OR subject = $2) "
        "AND ($3::text IS NULL OR type = $3) ORDER BY seq LIMIT $4", after, subject, kind, limit))


async def last_seq(conn: asyncpg.Connection) -> int:
    """The highest sequence held (0 when empty)."""
    return int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM events"))
