"""Housekeeping every service runs: drop what its retention rules say is no longer needed (docs/design.md section 4)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from prometheus_client import Counter

from rig_db.relay import RETENTION, prune
from rig_identity import RevocationSet
from rig_identity.revocation import prune_recorded

log = logging.getLogger(__name__)

PRUNED = Counter("rig_housekeeping_pruned_total", "Rows dropped by housekeeping, by table", ["service", "table"])

INBOX_RETENTION = timedelta(days=30)
"""Handled event ids are kept well beyond the outbox's 7 days, so an event republished from any outbox
(`rig republish --since`) is still recognised as handled."""


@dataclass(frozen=True, slots=True)
class Housekeeping:
    """Prunes published outbox rows, old inbox ids and revocations of tokens that have expired anyway."""

    service: str
    schema: str
    revocations: RevocationSet
    outbox_retention: timedelta = RETENTION
    inbox_retention: timedelta = INBOX_RETENTION

    async def once(self, pool: asyncpg.Pool) -> dict[str, int]:
        """One pass; how many rows each table lost."""
        dropped = {"outbox": await prune(pool, self.outbox_retention)}
        async with pool.acquire() as conn:
            status: str = await conn.execute("DELETE FROM inbox WHERE handled_at < now() - $1::interval",
                                             self.inbox_retention)
            dropped["inbox"] = int(status.rsplit(maxsplit=1)[-1])
            await prune_recorded(conn, self.schema)
        dropped["revocations"] = self.revocations.prune()
        for table, count in dropped.items():
            PRUNED.labels(self.service, table).inc(count)
        return dropped

    async def run(self, pool: asyncpg.Pool, every_s: float = 3600.0) -> None:
        """A pass at start and then every `every_s`; a database hiccup is logged and waited out."""
        while True:
            try:
                dropped = await self.once(pool)
                if any(dropped.values()):
                    log.info("%s housekeeping dropped %s", self.service, dropped)
            except (asyncpg.PostgresError, OSError) as error:
                log.warning("%s housekeeping failed (%s); next pass in %.0fs", self.service, error, every_s)
            await asyncio.sleep(every_s)
