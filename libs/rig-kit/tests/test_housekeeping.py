"""Housekeeping against a real schema: old published outbox rows, old inbox ids and expired revocations go."""

from datetime import UTC, datetime, timedelta

from rig_contracts.catalogue import AgentHeartbeatEvent
from rig_db.migrations import migrate
from rig_db.pool import create_pool
from rig_identity import RevocationSet
from rig_identity.revocation import record
from rig_kit import ServiceKit
from rig_kit.housekeeping import Housekeeping
from rig_service.settings import CommonSettings


def beat(n: int) -> AgentHeartbeatEvent:
    return AgentHeartbeatEvent.of(source="agent:dev-e-node", subject=f"o/r#{n}", key=f"hb:{n}",
                                  data={"agent": "dev-e-node"})


async def test_only_what_retention_allows_is_dropped(database_url, schema_suffix):
    kit = ServiceKit("housekeeping", CommonSettings(database_url=database_url, schema_suffix=schema_suffix))
    pool = await create_pool(database_url, kit.schema)
    try:
        await migrate(pool, kit.schema, kit.plan())
        old, recent, unpublished = beat(1), beat(2), beat(3)
        async with pool.acquire() as conn:
            for event, published in ((old, timedelta(days=8)), (recent, timedelta(days=1)), (unpublished, None)):
                await conn.execute(
                    "INSERT INTO outbox (event_id, stream, payload, published_at) "
                    "VALUES ($1, 'rig:events', $2, now() - $3::interval)", event.id, event.to_json(), published)
            await conn.execute("INSERT INTO inbox (event_id, handled_at) VALUES ($1, now() - interval '31 days'), "
                               "($2, now() - interval '29 days')", old.id, recent.id)
            now = datetime.now(UTC)
            await record(conn, kit.schema, "expired", now - timedelta(hours=1))
            await record(conn, kit.schema, "valid", now + timedelta(days=1))
        revocations = RevocationSet()

        dropped = await Housekeeping("housekeeping", kit.schema, revocations).once(pool)

        assert dropped["outbox"] == 1 and dropped["inbox"] == 1
        async with pool.acquire() as conn:
            kept = {str(r["event_id"]) for r in await conn.fetch("SELECT event_id FROM outbox")}
            assert kept == {recent.id, unpublished.id}
            assert [str(r["event_id"]) for r in await conn.fetch("SELECT event_id FROM inbox")] == [recent.id]
            assert [r["jti"] for r in await conn.fetch("SELECT jti FROM revoked_tokens")] == ["valid"]
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{kit.schema}" CASCADE')
        await pool.close()
