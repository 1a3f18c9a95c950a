"""Concurrency limits per agent pool and per repository, with the waiting ones queued by priority and age.

Without limits (the default) an assignment is published with the decision that made it. With limits, every new
assignment is first held (`queued`, its outbox rows kept on its row); `dispatch` then hands out the queued ones,
highest priority and oldest first, while their pool and their repository are under their limits. It runs in the
transaction of each batch (new work, or finished work freeing room) and in the lease sweep.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg

from rig_contracts import event_from_json
from rig_db.outbox import OutboxEntry
from rig_router.assignments import DISPATCHED
from rig_router.emit import Assignment


@dataclass(frozen=True)
class Limits:
    """How many assignments may be out at once: per agent pool (absent: no limit) and per repository (0: none)."""

    pools: Mapping[str, int] = field(default_factory=dict)
    per_repo: int = 0

    @property
    def active(self) -> bool:
        """Whether any limit applies (else nothing is ever queued)."""
        return bool(self.pools) or self.per_repo > 0


def _held(entries: Sequence[OutboxEntry]) -> str:
    return json.dumps([{"event": e.event.to_json(), "stream": e.stream, "extra": dict(e.extra), "signal": e.signal}
                       for e in entries])


def _entries(held: str) -> list[OutboxEntry]:
    return [OutboxEntry(event_from_json(h["event"]), h["stream"], h["extra"], h["signal"]) for h in json.loads(held)]


async def admit(conn: asyncpg.Connection, limits: Limits, new: Sequence[Assignment],
                outbox: list[OutboxEntry]) -> None:
    """Hold the new assignments' outbox rows back in the queue, then dispatch what the limits allow into `outbox`."""
    if not limits.active:
        return
    held = {id(entry) for row in new for entry in row.outbox}
    outbox[:] = [entry for entry in outbox if id(entry) not in held]
    if new:
        await conn.executemany("UPDATE assignments SET status = 'queued', held = $2::jsonb WHERE id = $1::uuid",
                               [(row.id, _held(row.outbox)) for row in new])
    outbox += await dispatch(conn, limits)


async def dispatch(conn: asyncpg.Connection, limits: Limits) -> list[OutboxEntry]:
    """Hand out queued assignments while their pool and repository have room; their outbox rows, in order."""
    queued = await conn.fetch("SELECT id::text, agent, repo, held::text FROM assignments WHERE status = 'queued' "
                              "ORDER BY priority, created_at FOR UPDATE SKIP LOCKED")
    if not queued:
        return []
    out = await conn.fetch("SELECT agent, repo, count(*) AS n FROM assignments WHERE status = ANY($1::text[]) "
                           "GROUP BY agent, repo", list(DISPATCHED))
    per_agent: Counter[str] = Counter()
    per_repo: Counter[str] = Counter()
    for row in out:
        per_agent[row["agent"]] += row["n"]
        per_repo[row["repo"]] += row["n"]
    released: list[str] = []
    entries: list[OutboxEntry] = []
    for row in queued:
        agent, repo = row["agent"], row["repo"]
        if per_agent[agent] >= limits.pools.get(agent, 1 << 30):
            continue
        if limits.per_repo and per_repo[repo] >= limits.per_repo:
            continue
        per_agent[agent] += 1
        per_repo[repo] += 1
        released.append(row["id"])
        entries += _entries(row["held"])
    if released:
        # Leases count from the hand-out, not from when the assignment was queued.
        await conn.execute("UPDATE assignments SET status = 'waiting', held = NULL, signalled_at = now(), "
                           "progress_at = now() WHERE id = ANY($1::uuid[])", released)
    return entries
