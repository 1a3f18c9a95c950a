"""Revocations: applied from TOKEN_REVOKED events, stored in the service's schema, read back after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from rig_contracts.catalogue import AgentHeartbeatEvent, TokenRevokedEvent
from rig_identity.revocation import REVOKED_TOKENS_SQL, RevocationSet, load, prune_recorded, record

NOW = datetime.now(UTC)


def revoked(jti: str, expires_at: datetime | None) -> TokenRevokedEvent:
    return TokenRevokedEvent.of(source="human:ops", subject="token", key=f"revoke:{jti}",
                                data={"jti": jti, "expires_at": expires_at, "revoked_by": "human:ops"})


Stored = tuple[Any, str]
"""An asyncpg connection (untyped) and the schema holding the revoked_tokens table."""


@pytest.fixture
async def conn(database_url: str, schema_suffix: str) -> AsyncIterator[Stored]:
    connection = await asyncpg.connect(database_url)
    schema = f"identity{schema_suffix}"
    await connection.execute(f'CREATE SCHEMA "{schema}"')
    await connection.execute(REVOKED_TOKENS_SQL.format(schema=schema))
    yield connection, schema
    await connection.close()


def test_a_revoked_token_event_is_applied_and_other_events_ignored() -> None:
    revocations = RevocationSet()
    heartbeat = AgentHeartbeatEvent.of(source="agent:review-e", subject="agent:review-e", key="hb:1",
                                       data={"agent": "review-e"})

    assert revocations.apply(revoked("j1", NOW + timedelta(days=1)))
    assert not revocations.apply(heartbeat)

    assert revocations.is_revoked("j1")
    assert not revocations.is_revoked("j2")
    assert len(revocations) == 1


def test_revocations_of_expired_tokens_are_pruned() -> None:
    revocations = RevocationSet()
    revocations.revoke("old", NOW - timedelta(seconds=1))
    revocations.revoke("live", NOW + timedelta(days=1))
    revocations.revoke("unknown-expiry", None)

    assert revocations.prune(NOW) == 1

    assert not revocations.is_revoked("old")
    assert revocations.is_revoked("live") and revocations.is_revoked("unknown-expiry")


async def test_recorded_revocations_load_into_a_fresh_set(conn: Stored) -> None:
    connection, schema = conn
    await record(connection, schema, "j1", NOW + timedelta(days=3))
    await record(connection, schema, "j1", NOW + timedelta(days=3))
    await record(connection, schema, "j2", None)
    await record(connection, schema, "expired", NOW - timedelta(days=1))

    loaded = await load(connection, schema)

    assert loaded.is_revoked("j1") and loaded.is_revoked("j2")
    assert not loaded.is_revoked("expired")
    assert await connection.fetchval(f'SELECT count(*) FROM "{schema}".revoked_tokens') == 3
    await prune_recorded(connection, schema)
    assert await connection.fetchval(f'SELECT count(*) FROM "{schema}".revoked_tokens') == 2


async def test_loading_adds_to_the_set_a_service_already_wired(conn: Stored) -> None:
    connection, schema = conn
    revocations = RevocationSet()
    revocations.revoke("from-the-stream", None)
    await record(connection, schema, "from-the-table", None)

    assert await load(connection, schema, into=revocations) is revocations

    assert revocations.is_revoked("from-the-stream") and revocations.is_revoked("from-the-table")


async def test_a_schema_name_that_could_inject_sql_is_refused(conn: Stored) -> None:
    connection, _ = conn
    with pytest.raises(ValueError, match="schema name"):
        await record(connection, 'x"; DROP TABLE y; --', "j1", None)
