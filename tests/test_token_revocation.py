"""`rig tokens revoke` on a running system: ingest refuses the token within a second, the other services once
TOKEN_REVOKED reaches them; the token itself is in no event and not in the command's output."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from system_support import KEYS, build, eventually, rig

from rig_identity import mint, verify

REPO = "octo/widgets"
BEAT = {"type": "AGENT_HEARTBEAT", "subject": f"{REPO}#5", "data": {"status": "busy"}}
REFUSAL_BOUND_S = 1.0
"""docs/design.md section 8: a revoked token is refused at once; ingest records it in the request that revokes it."""


async def test_a_revoked_token_is_refused_by_ingest_within_a_second(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    common = {"database_url": database_url, "redis_url": redis_url, "key_prefix": key_prefix,
              "schema_suffix": schema_suffix, "folder": tmp_path}
    system = build(["ingest", "eventstore", "edge"],
                   extra_env={"RIG_INGEST_WEBHOOK_SECRETS": '["system-test-webhook-secret"]'}, **common)
    token = mint(KEYS[0], "agent:dev-e-node", ["events:write", "read"])
    jti = verify(KEYS[1], token).jti
    headers = {"Authorization": f"Bearer {token}"}
    async with system, httpx.AsyncClient(timeout=30) as http:
        edge, store = system.url("edge"), system.url("eventstore")
        accepted = await http.post(f"{edge}/api/events", json=BEAT, headers=headers)
        assert accepted.status_code == 202, accepted.text
        assert (await http.get(f"{store}/api/log", headers=headers)).status_code == 200

        result = await asyncio.to_thread(rig, "tokens", "revoke", token, "--reason", "test", system=system,
                                         **common)
        revoked_at = time.monotonic()
        assert result.returncode == 0, result.stdout + result.stderr
        assert jti in result.stdout and token not in result.stdout + result.stderr

        refused_after = None
        while time.monotonic() - revoked_at < 10 * REFUSAL_BOUND_S:
            answer = await http.post(f"{edge}/api/events", json=BEAT, headers=headers)
            if answer.status_code == 401:
                refused_after = time.monotonic() - revoked_at
                break
            assert answer.status_code == 202, answer.text
            await asyncio.sleep(0.02)
        assert refused_after is not None and refused_after < REFUSAL_BOUND_S, refused_after
        assert "revoked" in answer.json()["detail"]

        async def store_refuses() -> bool:
            return (await http.get(f"{store}/api/log", headers=headers)).status_code == 401
        await eventually(store_refuses, within_s=30, what="the event store to drop the revoked token")

        entries = await redis.xrange(f"{key_prefix}rig:events")
        events = [json.loads(fields[b"event"]) for _id, fields in entries]
        revocations = [e for e in events if e["type"] == "TOKEN_REVOKED"]
        assert [(e["data"]["jti"], e["source"]) for e in revocations] == [(jti, "ingest")]
        assert all(token not in json.dumps(e) for e in events)


async def test_every_replica_refuses_a_revoked_token_within_a_second(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    """Two merger processes (one schema, one consumer group): the group gives TOKEN_REVOKED to one of them, and
    both refuse the token within a second anyway (each also follows the stream, `rig_bus.follow`)."""
    common = {"database_url": database_url, "redis_url": redis_url, "key_prefix": key_prefix,
              "schema_suffix": schema_suffix, "folder": tmp_path}
    system = build(["ingest", "merger", "merger-b", "edge"], replicas={"merger-b": "merger"},
                   extra_env={"RIG_INGEST_WEBHOOK_SECRETS": '["system-test-webhook-secret"]'}, **common)
    token = mint(KEYS[0], "agent:review-e", ["read"])
    headers = {"Authorization": f"Bearer {token}"}
    async with system, httpx.AsyncClient(timeout=30) as http:
        replicas = [system.url("merger"), system.url("merger-b")]

        async def answers(url: str) -> int:
            return (await http.get(f"{url}/api/merge/{REPO}/7", headers=headers)).status_code

        assert [await answers(url) for url in replicas] == [404, 404]  # heard: no merge request for that PR
        result = await asyncio.to_thread(rig, "tokens", "revoke", token, system=system, **common)
        revoked_at = time.monotonic()
        assert result.returncode == 0, result.stdout + result.stderr

        async def refused_after(url: str) -> float | None:
            while time.monotonic() - revoked_at < 10 * REFUSAL_BOUND_S:
                status = await answers(url)
                if status == 401:
                    return time.monotonic() - revoked_at
                assert status == 404, status
                await asyncio.sleep(0.02)
            return None

        delays = await asyncio.gather(*(refused_after(url) for url in replicas))
        assert all(d is not None and d < REFUSAL_BOUND_S for d in delays), delays
