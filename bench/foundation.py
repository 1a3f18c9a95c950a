"""Foundation bench: outbox relay throughput (commit → stream) and a consumer's batched inbox + projection rate."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

import asyncpg
import redis.asyncio as aioredis

from bench.report import Figure, write
from rig_bus import Delivery, Outgoing, Publisher
from rig_bus.bus import RedisBus
from rig_bus.consumer import ConsumerOptions
from rig_contracts import Event, Names
from rig_contracts.catalogue import AgentHeartbeatEvent
from rig_db import outbox
from rig_db.inbox import InboxProjection
from rig_db.migrations import Migration, library_migrations, migrate
from rig_db.pool import create_pool
from rig_db.relay import OutboxRelay
from rig_testing import servers

EVENTS = 50_000
RELAY_TARGET, CONSUME_TARGET = 20_000.0, 5_000.0
PROJECTION_SQL = "CREATE TABLE counters (subject text PRIMARY KEY, count integer NOT NULL);"


def events(n: int) -> list[AgentHeartbeatEvent]:
    return [AgentHeartbeatEvent.of(source="agent:bench", subject=f"o/r#{i % 100}", key=f"hb:{i}",
                                   data={"agent": "bench"}) for i in range(n)]


class TimedPublisher(Publisher):
    """Counts the wall time spent in the publish script, to split relay time between Valkey and PostgreSQL."""

    seconds = 0.0

    async def publish(self, messages: Sequence[Outgoing]) -> list[str | None]:
        start = time.perf_counter()
        try:
            return await super().publish(messages)
        finally:
            self.seconds += time.perf_counter() - start


async def bench_relay(pool: asyncpg.Pool, client: aioredis.Redis, names: Names, schema: str) -> Figure:
    batch = events(EVENTS)
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, [outbox.OutboxEntry(e, names.events) for e in batch])
    publisher = TimedPublisher(client, names)
    relay = OutboxRelay(pool, publisher, schema, batch_size=2000)
    start = time.perf_counter()
    relayed = await relay.drain()
    elapsed = time.perf_counter() - start
    assert relayed == EVENTS and await client.xlen(names.events) == EVENTS
    return Figure("relay: events/s commit → stream", EVENTS / elapsed, "events/s", RELAY_TARGET,
                  profile={"total_s": round(elapsed, 3), "valkey_publish_script_s": round(publisher.seconds, 3),
                           "postgres_claim_and_mark_s": round(elapsed - publisher.seconds, 3)})


async def bench_consumer(pool: asyncpg.Pool, url: str, names: Names, schema: str) -> Figure:
    handler_seconds = 0.0

    async def apply(conn: asyncpg.Connection, batch: Sequence[Event]) -> None:
        await conn.executemany(
            "INSERT INTO counters (subject, count) VALUES ($1, 1) "
            "ON CONFLICT (subject) DO UPDATE SET count = counters.count + 1", [(e.subject,) for e in batch])

    projection = InboxProjection(pool, schema, apply)

    async def timed(deliveries: Sequence[Delivery]) -> None:
        nonlocal handler_seconds
        start = time.perf_counter()
        await projection(deliveries)
        handler_seconds += time.perf_counter() - start

    bus = RedisBus(url, names)
    bus.consumer(names.events, "bench", "c1", timed, ConsumerOptions(batch_size=1000, block_ms=100))
    start = time.perf_counter()
    async with bus:
        while (await bus.client.xpending(names.events, "bench"))["pending"] or \
                await pool.fetchval("SELECT count(*) FROM inbox") < EVENTS:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
    assert await pool.fetchval("SELECT sum(count) FROM counters") == EVENTS
    return Figure("consumer: events/s with inbox + projection", EVENTS / elapsed, "events/s", CONSUME_TARGET,
                  profile={"total_s": round(elapsed, 3), "handler_parse_inbox_projection_s": round(handler_seconds, 3),
                           "read_ack_and_framework_s": round(elapsed - handler_seconds, 3)})


async def main() -> None:
    run = uuid.uuid4().hex[:8]
    database_url, redis_url = servers.database_url(), servers.redis_url()
    names, schema = Names(f"bench:{run}:"), f"bench_{run}"
    pool = await create_pool(database_url, schema, max_size=4)
    client = aioredis.Redis.from_url(redis_url)
    try:
        await migrate(pool, schema, [*library_migrations(), Migration("bench", "0001.sql", PROJECTION_SQL)])
        relay = await bench_relay(pool, client, names, schema)
        consumer = await bench_consumer(pool, redis_url, names, schema)
        write("foundation", [relay, consumer], {"events": EVENTS, "database": database_url.split("@")[-1],
                                                "redis": redis_url, "relay_batch": 2000, "consumer_batch": 1000})
    finally:
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()
        async for key in client.scan_iter(match=f"bench:{run}:*", count=10_000):
            await client.delete(key)
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
