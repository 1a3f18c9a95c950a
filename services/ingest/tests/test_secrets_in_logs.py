"""No token appears in ingest's logs, whatever the calls: accepted, refused, revoked, malformed."""

import logging

import pytest
from reports_support import AGENT, REPO, RUNTIME_NETWORK, settings_with

from rig_identity import generate_keypair, mint, verify
from rig_ingest.settings import IngestSettings


@pytest.fixture
def keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
def settings(keys, database_url, redis_url, key_prefix, schema_suffix, tmp_path) -> IngestSettings:
    return settings_with(keys, database_url, redis_url, key_prefix, schema_suffix, str(tmp_path),
                         trusted_networks=[RUNTIME_NETWORK])


async def test_no_token_is_logged(client, keys, caplog):
    caplog.set_level(logging.DEBUG)
    agent = mint(keys[0], f"agent:{AGENT}", ["events:write", "runs:write"])
    admin = mint(keys[0], "cli:ops", ["admin"])
    foreign = mint(generate_keypair()[0], f"agent:{AGENT}", ["events:write"])
    reader = mint(keys[0], "agent:review-e", ["read"])
    tokens = (agent, admin, foreign, reader)

    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    beat = {"type": "AGENT_HEARTBEAT", "subject": f"{REPO}#3", "data": {}}
    run = {"repo": REPO, "issueNumber": 3, "agentId": AGENT, "status": "running", "model": "m", "steps": []}
    statuses = []
    for token in tokens:
        statuses.append((await client.post("/api/events", json=beat, headers=auth(token))).status_code)
        statuses.append((await client.post("/api/execution-logs", json=run, headers=auth(token))).status_code)
        statuses.append((await client.post("/api/events", json={"type": "NAP", "agentId": AGENT},
                                           headers=auth(token))).status_code)
    jti = verify(keys[1], agent).jti
    revoke = await client.post("/api/admin/tokens/revoke", json={"jti": jti}, headers=auth(admin))
    refused = await client.post("/api/events", json=beat, headers=auth(agent))
    garbled = await client.post("/api/events", json=beat, headers=auth(agent[:-5] + "AAAAA"))
    assert statuses == [202, 201, 422, 403, 201, 422, 401, 401, 401, 403, 403, 403]
    assert (revoke.status_code, refused.status_code, garbled.status_code) == (200, 401, 401)

    assert caplog.records, "the calls were logged at all (else this test could not fail)"
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for token in tokens:
        for part in token.split("."):
            assert part not in logged
