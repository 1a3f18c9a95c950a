"""Consumers on real PostgreSQL and Redis: reclaim after a crash, dead letters, effectively-once projections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import asyncpg
import pytest
import redis.asyncio as aioredis
from db_support import heartbeat, spawn, stop, wait_exit
from programs import counting
from redis.exceptions import RedisError

from rig_bus import Delivery, Outgoing, Publisher
from rig_bus.bus import RedisBus
from rig_bus.consumer import ConsumerOptions
from rig_contracts import Event, Names
from rig_db.inbox import InboxProjection
from rig_db.pool import create_pool
from rig_service.faults import FAULT_EXIT_STATUS
from rig_testing.waiting import eventually


async def publish(client: aioredis.Redis, names: Names, events: Sequence[Event]) -> None:
    await Publisher(client, names).publish([Outgoing.of(e, names.events) for e in events])


@pytest.mark.parametrize(("fault", "successor", "min_idle_ms"), [
    ("consumer.after_read", "second", 300),    # another consumer reclaims the idle entries
    ("consumer.before_ack", "second", 300),
    ("consumer.before_ack", "first", 60_000),  # the same consumer, restarted, takes its own at once
])
async def test_consumer_killed_before_acknowledging_has_its_entries_handled_once_by_another(
        fault, successor, min_idle_ms, redis, redis_url, database_url, schema_suffix, key_prefix):
    schema = f"counting{schema_suffix}"
    names = Names(key_prefix)
    pool = await create_pool(database_url, schema)
    await counting.prepare(pool, schema)
    events = [heartbeat(f"o/r#{i % 4}") for i in range(40)]
    await publish(redis, names, events)
    common = {"database_url": database_url, "redis_url": redis_url, "key_prefix": key_prefix, "schema": schema}

    first = spawn("consume", consumer="first", fault=fault, **common)
    status = await wait_exit(first)
    output = stop(first)
    assert status == FAULT_EXIT_STATUS, output
    pending = await redis.xpending(names.events, "counting")
    assert pending["pending"] == 40, "the killed consumer held its batch without acknowledging it"

    second = spawn("consume", consumer=successor, min_idle_ms=min_idle_ms, **common)
    try:
        async def all_acknowledged() -> bool:
            return (await redis.xpending(names.events, "counting"))["pending"] == 0
        await eventually(all_acknowledged, what="the second consumer to reclaim and acknowledge")
    finally:
        stop(second)
    assert await counting.counts(pool) == {f"o/r#{i}": 10 for i in range(4)}
    applied = await counting.applications(pool)
    assert sorted(applied) == sorted(e.id for e in events), "each event changed the projection exactly once"
    await pool.close()


async def test_always_failing_entry_goes_to_dead_letters_and_the_rest_are_handled(
        redis_url, database_url, schema_suffix, key_prefix, redis):
    schema = f"counting{schema_suffix}"
    names = Names(key_prefix)
    pool = await create_pool(database_url, schema)
    await counting.prepare(pool, schema)

    async def apply(conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        if any(e.subject == "o/poison#1" for e in events):
            raise ValueError("cannot project o/poison#1")
        await counting.apply(conn, events)

    bus = RedisBus(redis_url, names)
    bus.consumer(names.events, "counting", "c1", InboxProjection(pool, schema, apply),
                 ConsumerOptions(batch_size=10, block_ms=50, min_idle_ms=100, max_deliveries=3, reclaim_every_s=0.1))
    good = [heartbeat(f"o/r#{i}") for i in range(10)]
    poison = heartbeat("o/poison#1")
    await publish(redis, names, [*good[:5], poison, *good[5:]])
    async with bus:
        async def dead_lettered() -> bool:
            return await redis.xlen(names.dead) == 1
        await eventually(dead_lettered, what="the poison entry to reach rig:dead")
        later = heartbeat("o/r#later")
        await publish(redis, names, [later])

        async def later_handled() -> bool:
            return (await counting.counts(pool)).get("o/r#later") == 1
        await eventually(later_handled, what="consumption to go on after the dead letter")
    [(_, record)] = await redis.xrange(names.dead)
    record = {k.decode(): v.decode() for k, v in record.items()}
    assert record["deliveries"] == "3"
    assert "cannot project o/poison#1" in record["error"]
    assert json.loads(json.loads(record["fields"])["event"])["id"] == poison.id
    assert sum((await counting.counts(pool)).values()) == 11
    assert (await redis.xpending(names.events, "counting"))["pending"] == 0
    await pool.close()


async def test_the_same_event_id_twice_changes_nothing(redis, database_url, schema_suffix, key_prefix):
    schema = f"counting{schema_suffix}"
    names = Names(key_prefix)
    pool = await create_pool(database_url, schema)
    await counting.prepare(pool, schema)
    event = heartbeat("o/r#1")
    published = await Publisher(redis, names).publish([Outgoing.of(event, names.events)] * 2)
    assert published[0] is not None and published[1] is None
    assert await redis.xlen(names.events) == 1

    projection = InboxProjection(pool, schema, counting.apply)
    delivery = Delivery(names.events, "1-0", Outgoing.of(event, names.events).fields)
    await projection([delivery])
    await projection([delivery, delivery])
    assert await counting.counts(pool) == {"o/r#1": 1}
    await pool.close()


async def test_entries_are_read_and_committed_in_batches(redis_url, redis, database_url, schema_suffix, key_prefix):
    schema = f"counting{schema_suffix}"
    names = Names(key_prefix)
    pool = await create_pool(database_url, schema)
    await counting.prepare(pool, schema)
    sizes: list[int] = []

    async def apply(conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        sizes.append(len(events))
        await counting.apply(conn, events)

    await publish(redis, names, [heartbeat("o/r#1") for _ in range(250)])
    bus = RedisBus(redis_url, names)
    bus.consumer(names.events, "counting", "c1", InboxProjection(pool, schema, apply),
                 ConsumerOptions(batch_size=100, block_ms=50))
    async with bus:
        async def done() -> bool:
            return (await counting.counts(pool)).get("o/r#1") == 250
        await eventually(done, what="250 events to be counted")
        await asyncio.sleep(0.1)
    assert sizes == [100, 100, 50]
    await pool.close()


async def test_consumer_reads_again_after_valkey_restarts_empty(private_redis, database_url, schema_suffix, key_prefix):
    schema = f"counting{schema_suffix}"
    names = Names(key_prefix)
    pool = await create_pool(database_url, schema)
    await counting.prepare(pool, schema)
    bus = RedisBus(private_redis.url, names)
    bus.consumer(names.events, "counting", "c1", InboxProjection(pool, schema, counting.apply),
                 ConsumerOptions(batch_size=10, block_ms=50, min_idle_ms=100, reclaim_every_s=0.1))
    async with bus:
        await publish(bus.client, names, [heartbeat("o/r#before")])

        async def counted(subject: str) -> bool:
            return (await counting.counts(pool)).get(subject) == 1
        await eventually(lambda: counted("o/r#before"), what="the first event")
        private_redis.stop()
        private_redis.start()
        after = heartbeat("o/r#after")

        async def published_and_counted() -> bool:
            try:
                await publish(bus.client, names, [after])
            except (ConnectionError, RedisError):
                return False
            return await counted("o/r#after")
        await eventually(published_and_counted, what="an event published after the restart to be handled")
    await pool.close()
