"""The outbox wakes its relay at commit by itself, once per transaction, never for a statement that wrote nothing."""

from __future__ import annotations

import asyncio

from db_support import heartbeat
from programs import counting

from rig_contracts import Names
from rig_db import outbox
from rig_db.pool import create_pool


async def test_a_commit_with_outbox_rows_notifies_its_schema_once_and_an_empty_insert_nobody(
        database_url, schema_suffix, key_prefix):
    schema = f"wake{schema_suffix}"
    stream = Names(key_prefix).events
    pool = await create_pool(database_url, schema, min_size=2)
    await counting.prepare(pool, schema)
    heard: list[str] = []

    def hear(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        # The channel is the database's, shared by every schema (the payload names one): another run's service
        # on the same server may notify it too, so only this test's schema is counted.
        if payload == schema:
            heard.append(payload)

    try:
        async with pool.acquire() as listener:
            await listener.add_listener(outbox.NOTIFY_CHANNEL, hear)
            try:
                async with pool.acquire() as conn:
                    await conn.execute(outbox.insert_sql(), *outbox.columns([]))
                    async with conn.transaction():
                        await outbox.add(conn, [outbox.OutboxEntry(heartbeat("o/r#1"), stream)])
                        await outbox.add(conn, [outbox.OutboxEntry(heartbeat(f"o/r#{n}"), stream) for n in (2, 3)])
                        await asyncio.sleep(0.2)
                        assert heard == []  # not before the commit
                    await asyncio.sleep(0.3)
                    assert heard == [schema]
                    assert await conn.fetchval("SELECT count(*) FROM outbox") == 3
            finally:
                await listener.remove_listener(outbox.NOTIFY_CHANNEL, hear)
    finally:
        await pool.close()
