"""`rig republish --since`: outbox rows of real service schemas fed again to the real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import pytest
from cli_support import environment, json_of, rig, write_topology

from rig_bus.messages import decode_fields
from rig_cli.republish import parse_since
from rig_contracts import Names, event_from_json
from rig_contracts.catalogue import AgentHeartbeatEvent
from rig_db import outbox
from rig_db.migrations import library_migrations, migrate
from rig_db.pool import create_pool, schema_name

SERVICES = {"ledger": "rig_db.pool:create_pool", "costs": "rig_bus.bus:RedisBus", "ghost": "rig_ghost.app:create_app"}


def heartbeat(number: int) -> AgentHeartbeatEvent:
    return AgentHeartbeatEvent.of(source="agent:dev-e-node", subject=f"o/r#{number}", key=f"hb:{number}",
                                  data={"agent": "dev-e-node"})


async def published_outbox(database_url: str, schema: str, names: Names) -> list[AgentHeartbeatEvent]:
    """A service schema whose outbox holds 3 rows from 3 hours ago and 4 recent ones, all published long since."""
    pool = await create_pool(database_url, schema)
    await migrate(pool, schema, library_migrations())
    old, recent = [heartbeat(i) for i in range(3)], [heartbeat(i) for i in range(3, 7)]
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, [outbox.OutboxEntry(e, names.events) for e in old])
        await conn.execute("UPDATE outbox SET created_at = now() - interval '3 hours'")
        await outbox.add(conn, [outbox.OutboxEntry(e, names.events) for e in recent])
        await conn.execute("UPDATE outbox SET published_at = now()")
    await pool.close()
    return recent


async def test_republish_feeds_what_valkey_lost_once(tmp_path, redis, redis_url, database_url, key_prefix,
                                                     schema_suffix):
    names = Names(key_prefix)
    recent = await published_outbox(database_url, schema_name("ledger", schema_suffix), names)
    env = environment(tmp_path, redis_url=redis_url, database_url=database_url, key_prefix=key_prefix,
                      schema_suffix=schema_suffix, topology=str(write_topology(tmp_path / "t.toml", SERVICES)))

    first = json_of(await rig(["republish", "--since", "2h", "--json"], env))
    again = await rig(["republish", "--since", "2h"], env)

    assert [(s["service"], s["appended"]) for s in first["services"]] == [
        ("ledger", 4), ("costs", None), ("ghost", None)], "a service not installed here is judged by its schema"
    assert first["services"][0]["schema"] == f"ledger{schema_suffix}"
    entries = await redis.xrange(names.events)
    assert [event_from_json(decode_fields(f)["event"]).id for _, f in entries] == [e.id for e in recent]
    assert again.exit_code == 0, again.output
    assert "no outbox table" in again.stdout and "0 event(s) appended anew" in again.stdout


async def test_a_time_that_is_no_time_is_refused_with_examples(tmp_path):
    result = await rig(["republish", "--since", "yesterday"], environment(tmp_path))
    assert result.exit_code == 2
    assert "30m, 2h, 7d" in result.stderr


def test_since_takes_iso_times_and_durations():
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("1h30m", now) == now - timedelta(minutes=90)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-04-30T08:00:00Z", now) == datetime(2026, 4, 30, 8, tzinfo=UTC)
    assert parse_since("2026-04-30T08:00:00+02:00", now) == datetime(2026, 4, 30, 6, tzinfo=UTC)
    assert parse_since("2026-04-30T08:00", now) == datetime(2026, 4, 30, 8).astimezone(UTC)
    with pytest.raises(click.BadParameter):
        parse_since("", now)
