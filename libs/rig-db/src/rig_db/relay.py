"""The outbox relay: publishes unpublished rows in order, marks them, keeps them 7 days, can publish again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime, timedelta

import asyncpg
from prometheus_client import Counter, Gauge
from redis.exceptions import RedisError

from rig_bus import Outgoing
from rig_bus.backend import Publishes
from rig_contracts.entries import EVENT_FIELD
from rig_db.outbox import NOTIFY_CHANNEL
from rig_service.faults import NO_FAULTS, FaultPoints
from rig_service.waiting import wait_set

log = logging.getLogger(__name__)

RETENTION = timedelta(days=7)
"""How long published rows are kept, for `rig republish --since`."""

RELAYED = Counter("rig_outbox_relayed_total", "Outbox rows published", ["schema"])
RELAY_ERRORS = Counter("rig_outbox_relay_errors_total", "Relay attempts that failed (Valkey or database down)",
                       ["schema"])
BACKLOG = Gauge("rig_outbox_backlog", "Unpublished outbox rows seen by the last relay pass", ["schema"])

_CLAIM = """
SELECT seq, event_id::text, stream, payload, extra::text, signal FROM outbox
WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
"""


def to_outgoing(row: asyncpg.Record) -> Outgoing:
    """Turn an outbox row into the message the publisher appends."""
    fields = {EVENT_FIELD: row["payload"], **(json.loads(row["extra"]) if row["extra"] else {})}
    return Outgoing(row["event_id"], row["stream"], fields, row["signal"])


class OutboxRelay:
    """Publishes one schema's outbox; safe to run in several processes (rows are locked while published)."""

    def __init__(self, pool: asyncpg.Pool, publisher: Publishes, schema: str, *, batch_size: int = 1000,
                 idle_poll_s: float = 1.0, faults: FaultPoints = NO_FAULTS) -> None:
        self._pool = pool
        self._publisher = publisher
        self._schema = schema
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._faults = faults
        self._wake = asyncio.Event()

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows and mark them; return how many."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self._batch_size)
            if not rows:
                BACKLOG.labels(self._schema).set(0)
                return 0
            await self._publisher.publish([to_outgoing(r) for r in rows])
            self._faults.reach("relay.after_publish")
            await conn.execute("UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])",
                               [r["seq"] for r in rows])
        RELAYED.labels(self._schema).inc(len(rows))
        BACKLOG.labels(self._schema).set(len(rows))
        return len(rows)

    async def drain(self) -> int:
        """Relay until the outbox is empty; return how many rows went."""
        total = 0
        while count := await self.relay_once():
            total += count
        return total

    async def run(self) -> None:
        """Relay forever: at once after a commit notifies, else every `idle_poll_s`; back off while Valkey is down."""
        async with self._pool.acquire() as listener:
            await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
            try:
                await self._relay_forever()
            finally:
                with contextlib.suppress(Exception):
                    await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)

    async def _relay_forever(self) -> None:
        backoff = 0.1
        while True:
            try:
                relayed = await self.relay_once()
                backoff = 0.1
            except (RedisError, OSError, asyncpg.PostgresError) as error:
                RELAY_ERRORS.labels(self._schema).inc()
                log.warning("outbox relay of %s failed (%s); retrying in %.1fs", self._schema, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if relayed < self._batch_size:
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        self._wake.clear()
        await wait_set(self._wake, self._idle_poll_s)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == self._schema:
            self._wake.set()


async def republish_since(pool: asyncpg.Pool, publisher: Publishes, since: datetime, batch_size: int = 1000) -> int:
    """Publish every outbox row created since `since` again, in order; ids Valkey still knows are skipped.

    Returns how many were appended anew (after Valkey lost data, that is what consumers had not handled;
    their inboxes drop the ones they had).
    """
    appended, last_seq = 0, 0
    while True:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT seq, event_id::text, stream, payload, extra::text, signal FROM outbox "
                "WHERE created_at >= $1 AND seq > $2 ORDER BY seq LIMIT $3", since, last_seq, batch_size)
        if not rows:
            return appended
        results = await publisher.publish([to_outgoing(r) for r in rows])
        appended += sum(1 for entry in results if entry)
        last_seq = rows[-1]["seq"]


async def prune(pool: asyncpg.Pool, retention: timedelta = RETENTION) -> int:
    """Delete rows published longer ago than `retention`; return how many."""
    async with pool.acquire() as conn:
        status: str = await conn.execute(
            "DELETE FROM outbox WHERE published_at < now() - $1::interval", retention)
    return int(status.rsplit(maxsplit=1)[-1])

