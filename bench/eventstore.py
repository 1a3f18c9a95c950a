"""Event store bench: append rate from `rig:events` into the store (read, parse, batched insert, acknowledge)."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import redis.asyncio as aioredis

from bench.foundation import events
from bench.report import Figure, write
from rig_bus import Outgoing, Publisher
from rig_contracts import Names
from rig_eventstore.app import create_app
from rig_eventstore.settings import EventStoreSettings
from rig_identity import generate_keypair
from rig_testing import servers

EVENTS = 30_000
TARGET = 5_000.0


async def main() -> None:
    run = uuid.uuid4().hex[:8]
    database_url, redis_url = servers.database_url(), servers.redis_url()
    names = Names(f"bench:{run}:")
    client = aioredis.Redis.from_url(redis_url)
    await Publisher(client, names).publish([Outgoing.of(e, names.events) for e in events(EVENTS)])
    settings = EventStoreSettings(database_url=database_url, redis_url=redis_url, key_prefix=names.prefix,
                                  schema_suffix=f"_bench{run}", token_public_key=generate_keypair()[1])
    app = create_app(settings)
    conn = await asyncpg.connect(database_url)
    schema = f"eventstore_bench{run}"
    try:
        start = time.perf_counter()
        async with app.router.lifespan_context(app):
            while await conn.fetchval(f'SELECT count(*) FROM "{schema}".events') < EVENTS:
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - start
        write("eventstore", [Figure("event store: events/s appended (batched)", EVENTS / elapsed, "events/s", TARGET,
                                    profile={"total_s": round(elapsed, 3), "includes": "start-up, migrations, read, "
                                             "parse, insert, ack"})],
              {"events": EVENTS, "batch": 1000})
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
        async for key in client.scan_iter(match=f"bench:{run}:*", count=10_000):
            await client.delete(key)
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
