"""Output lines from `runlogs` (what agents and ingest write there), stored in stream order per run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from prometheus_client import Counter

from rig_bus import Delivery
from rig_bus.consumer import BatchHandler
from rig_kit import ServiceKit

STORED = Counter("rig_costs_lines_total", "Output lines read from runlogs (a redelivered line is stored once)")


def line_row(delivery: Delivery) -> tuple[Any, ...]:
    """The row of one `runlogs` entry (rig_contracts.entries.LOG_LINE_FIELDS); its id orders it."""
    ms, seq = delivery.entry_id.split("-", 1)
    f = delivery.fields
    number = f.get("issueNumber", "")
    return (int(ms), int(seq), f.get("runId") or None, f.get("agentId", ""), f.get("repo", ""),
            int(number) if number.isdigit() else None, f.get("ts", ""), f.get("level", "info") or "info",
            f.get("message", ""))


def runlogs_reader(kit: ServiceKit) -> tuple[str, BatchHandler]:
    """The kit's reader of `runlogs`: each batch stored in one statement."""

    async def store(deliveries: Sequence[Delivery]) -> None:
        rows = [line_row(d) for d in deliveries]
        async with kit.pool.acquire() as conn:
            await conn.executemany(
                "INSERT INTO run_lines (entry_ms, entry_seq, run_id, agent, repo, number, ts, level, message) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING", rows)
        STORED.inc(len(rows))

    return kit.names.runlogs, store


async def lines_of(conn: asyncpg.Connection, run_id: str, limit: int, after: int = 0) -> list[dict[str, Any]]:
    """A run's lines in order, `limit` at most, after the `after`-th."""
    rows = await conn.fetch("SELECT ts, level, message FROM run_lines WHERE run_id = $1 "
                            "ORDER BY entry_ms, entry_seq OFFSET $2 LIMIT $3", run_id, after, limit)
    return [{"ts": r["ts"], "level": r["level"], "message": r["message"]} for r in rows]
