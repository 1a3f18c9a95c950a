"""The outbox relay on real PostgreSQL and a private Redis that the tests stop and start."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from db_support import heartbeat, spawn, stop, wait_exit
from programs import counting

from rig_bus import Publisher
from rig_bus.messages import decode_fields
from rig_contracts import Names, event_from_json
from rig_db import outbox
from rig_db.pool import create_pool
from rig_db.relay import OutboxRelay, republish_since
from rig_service.faults import FAULT_EXIT_STATUS
from rig_testing.waiting import eventually


async def stream_ids(client: aioredis.Redis, stream: str) -> list[str]:
    entries = await client.xrange(stream) or []
    return [event_from_json(decode_fields(fields or {})["event"]).id for _, fields in entries]


async def test_event_written_while_redis_is_down_is_published_when_it_returns(
        private_redis, database_url, schema_suffix, key_prefix):
    schema = f"relay{schema_suffix}"
    names = Names(key_prefix)
    pool = await create_pool(database_url, schema)
    await counting.prepare(pool, schema)
    private_redis.stop()
    events = [heartbeat(f"o/r#{i}") for i in range(20)]
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, [outbox.OutboxEntry(e, names.events) for e in events])

    client = aioredis.Redis.from_url(private_redis.url)
    relay = OutboxRelay(pool, Publisher(client, names), schema, idle_poll_s=0.05)
    task = asyncio.create_task(relay.run())
    await asyncio.sleep(0.5)
    assert not task.done()
    private_redis.start()

    async def all_published() -> bool:
        async with pool.acquire() as conn:
            return await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    await eventually(all_published, what="the outbox to drain once Redis is back")
    assert await stream_ids(client, names.events) == [e.id for e in events]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await client.aclose()
    await pool.close()


async def test_relay_killed_between_publishing_and_marking_publishes_nothing_twice(
        private_redis, database_url, schema_suffix, key_prefix):
    schema = f"relay{schema_suffix}"
    names = Names(key_prefix)
    pool = await create_pool(database_url, schema)
    await counting.prepare(pool, schema)
    events = [heartbeat(f"o/r#{i}") for i in range(30)]
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, [outbox.OutboxEntry(e, names.events) for e in events])
    common = {"database_url": database_url, "redis_url": private_redis.url, "key_prefix": key_prefix,
              "schema": schema}

    killed = spawn("relay", fault="relay.after_publish", **common)
    status = await wait_exit(killed)
    output = stop(killed)
    assert status == FAULT_EXIT_STATUS, output
    client = aioredis.Redis.from_url(private_redis.url)
    assert await stream_ids(client, names.events) == [e.id for e in events]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 30

    again = spawn("relay", **common)
    try:
        async def marked() -> bool:
            async with pool.acquire() as conn:
                return await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        await eventually(marked, what="the second relay to mark the rows")
    finally:
        stop(again)
    assert await stream_ids(client, names.events) == [e.id for e in events]
    await client.aclose()
    await pool.close()


async def test_republish_since_restores_what_an_empty_valkey_lost(
        private_redis, database_url, schema_suffix, key_prefix):
    schema = f"relay{schema_suffix}"
    names = Names(key_prefix)
    pool = await create_pool(database_url, schema)
    await counting.prepare(pool, schema)
    old, recent = [heartbeat(f"o/r#{i}") for i in range(3)], [heartbeat(f"o/r#{i}") for i in range(3, 8)]
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, [outbox.OutboxEntry(e, names.events) for e in old])
        await conn.execute("UPDATE outbox SET created_at = now() - interval '2 hours'")
        await outbox.add(conn, [outbox.OutboxEntry(e, names.events) for e in recent])
    client = aioredis.Redis.from_url(private_redis.url)
    publisher = Publisher(client, names)
    assert await OutboxRelay(pool, publisher, schema).drain() == 8

    assert await republish_since(pool, publisher, datetime.now(UTC) - timedelta(hours=1)) == 0, \
        "ids Valkey still knows must not be appended again"
    private_redis.stop()
    private_redis.start()
    await client.aclose()
    client = aioredis.Redis.from_url(private_redis.url)
    publisher = Publisher(client, names)
    assert await republish_since(pool, publisher, datetime.now(UTC) - timedelta(hours=1)) == 5
    assert await stream_ids(client, names.events) == [e.id for e in recent]
    await client.aclose()
    await pool.close()
