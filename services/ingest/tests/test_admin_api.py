"""The token admin API: TOKEN_REVOKED through the outbox, and the revoked token refused here at once."""

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from ingest_support import outbox_events
from reports_support import AGENT, REPO, bearer, settings_with

from rig_identity import generate_keypair, mint, verify
from rig_ingest.settings import IngestSettings


@pytest.fixture
def keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
def settings(keys, database_url, redis_url, key_prefix, schema_suffix, tmp_path) -> IngestSettings:
    return settings_with(keys, database_url, redis_url, key_prefix, schema_suffix, str(tmp_path))


BEAT = {"type": "AGENT_HEARTBEAT", "subject": f"{REPO}#1", "data": {}}


async def test_a_revoked_token_is_refused_at_once_and_the_event_is_stored(client, keys, database_url, schema):
    token = mint(keys[0], f"agent:{AGENT}", ["events:write"])
    agent = {"Authorization": f"Bearer {token}"}
    principal = verify(keys[1], token)
    assert (await client.post("/api/events", json=BEAT, headers=agent)).status_code == 202

    admin = bearer(keys, "cli:ops", "admin")
    body = {"jti": principal.jti, "reason": "laptop stolen", "expires_at": principal.expires_at.isoformat()}
    revoked = await client.post("/api/admin/tokens/revoke", json=body, headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["duplicate"] is False

    refused = await client.post("/api/events", json=BEAT, headers=agent)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]

    _beat, event = await outbox_events(database_url, schema)
    assert (event.type, event.source, event.key, event.id) == (
        "TOKEN_REVOKED", "ingest", f"token-revoked:{principal.jti}", revoked.json()["event_id"])
    assert (event.data.jti, event.data.revoked_by, event.data.expires_at) == (
        principal.jti, "cli:ops", principal.expires_at)

    again = await client.post("/api/admin/tokens/revoke", json={"jti": principal.jti}, headers=admin)
    assert again.json() == {"jti": principal.jti, "event_id": event.id, "duplicate": True}
    assert len(await outbox_events(database_url, schema)) == 2

    listed = (await client.get("/api/admin/tokens/revoked", headers=admin)).json()["revoked"]
    assert [(r["jti"], r["reason"], r["revoked_by"], r["event_id"]) for r in listed] == [
        (principal.jti, "laptop stolen", "cli:ops", event.id)]
    conn = await asyncpg.connect(database_url)
    try:
        kept = await conn.fetchval(f"SELECT count(*) FROM {schema}.revoked_tokens WHERE jti = $1", principal.jti)
    finally:
        await conn.close()
    assert kept == 1, "the revocation survives a restart of ingest"


async def test_only_admins_revoke_and_bodies_are_checked(client, keys):
    agent = bearer(keys, f"agent:{AGENT}", "events:write")
    admin = bearer(keys, "cli:ops", "admin")
    assert (await client.post("/api/admin/tokens/revoke", json={"jti": "abc"})).status_code == 401
    assert (await client.post("/api/admin/tokens/revoke", json={"jti": "abc"}, headers=agent)).status_code == 403
    assert (await client.get("/api/admin/tokens/revoked", headers=agent)).status_code == 403
    for bad in ({}, {"jti": ""}, {"jti": "two words"}, {"jti": "abc", "expires_at": "tomorrow"},
                {"jti": "abc", "expires_at": (datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None).isoformat()},
                {"jti": "abc", "colour": "red"}):
        response = await client.post("/api/admin/tokens/revoke", json=bad, headers=admin)
        assert response.status_code == 422, (bad, response.text)
