"""Per-service schemas with numbered plain-SQL migrations, applied once each, also by replicas starting together."""

from __future__ import annotations

import asyncio

import pytest

from rig_db.migrations import Migration, folder_migrations, library_migrations, migrate
from rig_db.pool import create_pool, schema_name


async def test_migrations_apply_once_in_order_inside_the_service_schema(tmp_path, database_url, schema_suffix):
    (tmp_path / "0002_more.sql").write_text("ALTER TABLE things ADD COLUMN colour text;")
    (tmp_path / "0001_things.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    (tmp_path / "notes.txt").write_text("ignored")
    schema = schema_name("my-service", schema_suffix)
    pool = await create_pool(database_url, schema)
    plan = [*library_migrations(), *folder_migrations("my-service", tmp_path)]
    assert [m.version for m in plan] == ["rig_db/0001_outbox.sql", "rig_db/0002_inbox.sql",
                                         "rig_db/0003_outbox_notify.sql", "my-service/0001_things.sql",
                                         "my-service/0002_more.sql"]

    assert await migrate(pool, schema, plan) == [m.version for m in plan]
    assert await migrate(pool, schema, plan) == []
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO things (id, colour) VALUES (1, 'red')")
        assert await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema) == 4
    await pool.close()


async def test_replicas_starting_together_apply_each_migration_once(database_url, schema_suffix):
    schema = schema_name("race", schema_suffix)
    plan = [*library_migrations(), Migration("race", "0001_t.sql", "CREATE TABLE t (id int);")]
    pools = [await create_pool(database_url, schema) for _ in range(3)]
    applied = await asyncio.gather(*(migrate(p, schema, plan) for p in pools))
    assert sorted(len(a) for a in applied) == [0, 0, 4]
    for pool in pools:
        await pool.close()


async def test_a_failing_migration_leaves_nothing_half_applied(database_url, schema_suffix):
    schema = schema_name("broken", schema_suffix)
    pool = await create_pool(database_url, schema)
    bad = Migration("broken", "0001_bad.sql", "CREATE TABLE ok (id int); CREATE TABLE ok (id int);")
    with pytest.raises(Exception, match="already exists"):
        await migrate(pool, schema, [bad])
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT to_regclass($1)", f"{schema}.ok") is None
    await pool.close()


def test_schema_names_are_checked():
    assert schema_name("dev-e", "_t1") == "dev_e_t1"
    with pytest.raises(ValueError, match="schema name"):
        schema_name("bad name; drop")
