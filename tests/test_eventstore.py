"""The event store keeps exactly what was published, across a restart in the middle of a burst."""

from __future__ import annotations

import asyncio

import httpx
from system_support import admin_token, build, eventually, get_json, post_json, whole_log


async def test_burst_of_10000_with_a_store_restart_in_the_middle(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    system = build(["eventstore", "producer"], database_url=database_url, redis_url=redis_url,
                   key_prefix=key_prefix, schema_suffix=schema_suffix, folder=tmp_path)
    token = admin_token()
    async with system:
        store = system.url("eventstore")
        burst = asyncio.create_task(post_json(f"{system.url('producer')}/produce", {"count": 10_000, "batch": 250}))

        async def storing() -> bool:
            return len((await get_json(f"{store}/api/log?limit=1000", token))["events"]) >= 500
        await eventually(storing, what="the store to be part-way through the burst")
        system.kill("eventstore")
        ids = (await burst)["ids"]

        async def complete() -> bool:
            page = await get_json(f"{store}/api/log?after=9999&limit=10", token)
            return bool(page["events"])
        await eventually(complete, within_s=120, what="all 10,000 events in the store")
        await asyncio.sleep(0.5)
        log = await whole_log(store, token)
    assert system.restarts("eventstore") == 1
    assert len(log) == 10_000
    assert sorted(e["event"]["id"] for e in log) == sorted(ids), "each event once, none missing"
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)


async def test_log_pages_filter_and_refuse_without_a_token(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    system = build(["eventstore", "producer"], database_url=database_url, redis_url=redis_url,
                   key_prefix=key_prefix, schema_suffix=schema_suffix, folder=tmp_path)
    token = admin_token()
    async with system:
        store = system.url("eventstore")
        ids = (await post_json(f"{system.url('producer')}/produce", {"count": 30, "subjects": 3}))["ids"]

        async def stored() -> bool:
            return len(await whole_log(store, token)) == 30
        await eventually(stored, what="30 events stored")
        first = await get_json(f"{store}/api/log?limit=10", token)
        second = await get_json(f"{store}/api/log?after={first['next_after']}&limit=10", token)
        assert [e["event"]["id"] for e in first["events"] + second["events"]] == ids[:20]
        subject = await get_json(f"{store}/api/log?subject=o/r%232&limit=100", token)
        assert [e["event"]["id"] for e in subject["events"]] == ids[1::3]
        assert (await get_json(f"{store}/api/log?type=MERGED", token))["events"] == []
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{store}/api/log")).status_code == 401
            assert (await client.get(f"{store}/api/log?limit=5000",
                                     headers={"Authorization": f"Bearer {token}"})).status_code == 422
