"""Retention of raw output lines: lines stored longer ago than the setting are deleted, in small batches.

Each batch is its own short transaction, so readers (`GET /api/runs/{id}`) are never blocked for long; run summaries
and steps stay (they are rebuilt from the event store, and the roll-ups read them).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import asyncpg
from prometheus_client import Counter

from rig_costs.settings import CostsSettings
from rig_kit import ServiceKit
from rig_kit.kit import Job

log = logging.getLogger(__name__)

DELETED = Counter("rig_costs_lines_deleted_total", "Output lines deleted by retention")


async def prune_lines(pool: asyncpg.Pool, before: datetime, batch: int) -> int:
    """Delete the lines stored before `before`, `batch` at a time (one transaction each); return how many went."""
    total = 0
    while True:
        async with pool.acquire() as conn:
            status: str = await conn.execute(
                "DELETE FROM run_lines WHERE (entry_ms, entry_seq) IN (SELECT entry_ms, entry_seq FROM run_lines "
                "WHERE stored_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)", before, batch)
        gone = int(status.rsplit(maxsplit=1)[-1])
        total += gone
        DELETED.inc(gone)
        if gone < batch:
            return total
        await asyncio.sleep(0)  # let readers in between batches


def retention_job(settings: CostsSettings) -> Job:
    """The kit job that prunes lines every `costs_retention_every_s`."""

    async def retention(kit: ServiceKit) -> None:
        while True:
            try:
                cutoff = datetime.now().astimezone() - timedelta(days=settings.costs_lines_keep_days)
                gone = await prune_lines(kit.pool, cutoff, settings.costs_retention_batch)
                if gone:
                    log.info("retention deleted %d output lines stored before %s", gone, cutoff.isoformat())
            except (asyncpg.PostgresError, OSError):
                log.exception("retention failed; next try in %.0fs", settings.costs_retention_every_s)
            await asyncio.sleep(settings.costs_retention_every_s)

    return retention
