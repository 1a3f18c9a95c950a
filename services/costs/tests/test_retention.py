"""Retention deletes exactly the output lines past their age, in batches, and nothing newer, while a reader reads."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from rig_contracts import Names
from rig_costs.retention import prune_lines
from rig_db.pool import schema_name
from rig_testing.waiting import eventually


async def test_retention_deletes_exactly_the_lines_past_their_age_while_readers_read(costs, redis, key_prefix,
                                                                                     settings):
    names = Names(key_prefix)
    for n in range(250):
        await redis.xadd(names.runlogs, {"agentId": "dev-e-node", "runId": "run-old" if n < 180 else "run-new",
                                         "ts": str(n), "level": "info", "message": f"line {n}"})

    async def stored() -> bool:
        shown = (await costs.get("/api/runs/run-old/lines", params={"limit": 1000})).json()["lines"]
        return len(shown) == 180
    await eventually(stored, what="the lines stored")

    now = datetime.now(UTC)
    conn = await asyncpg.connect(settings.database_url, server_settings={
        "search_path": schema_name("costs", settings.schema_suffix)})
    try:
        # the first 120 lines were stored 31 days ago, the next 60 just inside the 30 days (29)
        await conn.execute("UPDATE run_lines SET stored_at = $1 WHERE ts::int < 120", now - timedelta(days=31))
        await conn.execute("UPDATE run_lines SET stored_at = $1 WHERE ts::int >= 120 AND ts::int < 180",
                           now - timedelta(days=29))
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2, server_settings={
            "search_path": schema_name("costs", settings.schema_suffix)})
        try:
            reads = 0
            stop = asyncio.Event()

            async def reader() -> None:
                nonlocal reads
                while not stop.is_set():
                    assert (await costs.get("/api/runs/run-new/lines")).status_code == 200
                    reads += 1
                    await asyncio.sleep(0)
            reading = asyncio.create_task(reader())
            gone = await prune_lines(pool, now - timedelta(days=30), batch=25)
            stop.set()
            await reading
        finally:
            await pool.close()
        left = [int(r["ts"]) for r in await conn.fetch("SELECT ts FROM run_lines ORDER BY entry_ms, entry_seq")]
    finally:
        await conn.close()
    assert gone == 120
    assert left == list(range(120, 250)), "nothing newer than 30 days went"
    assert reads > 0
    shown = (await costs.get("/api/runs/run-old/lines")).json()["lines"]
    assert [x["message"] for x in shown] == [f"line {n}" for n in range(120, 180)]
