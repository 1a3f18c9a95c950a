"""Under the supervisor, a service killed with -9 is restarted and no event is lost."""

from __future__ import annotations

import asyncio

from system_support import admin_token, build, eventually, get_json, post_json, whole_log


async def test_killed_services_are_restarted_and_every_event_arrives_once(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    system = build(["eventstore", "tally", "producer"], database_url=database_url, redis_url=redis_url,
                   key_prefix=key_prefix, schema_suffix=schema_suffix, folder=tmp_path)
    async with system:
        produced = asyncio.create_task(post_json(f"{system.url('producer')}/produce", {"count": 3000, "batch": 100}))
        await asyncio.sleep(0.3)
        killed = system.kill("tally")
        await asyncio.sleep(0.2)
        store_killed = system.kill("eventstore")
        ids = (await produced)["ids"]

        async def restarted() -> bool:  # the count rises as the restart begins; the new process comes after
            return system.restarts("tally") >= 1 and system.restarts("eventstore") >= 1 and \
                system.pid("tally") not in (None, killed) and system.pid("eventstore") not in (None, store_killed)
        await eventually(restarted, what="the supervisor to restart both, each as a new process")

        async def tallied() -> bool:
            return len((await get_json(f"{system.url('tally')}/tally"))["applied"]) >= len(ids)
        await eventually(tallied, what="the tally to see every event")
        await asyncio.sleep(1.0)
        tally = await get_json(f"{system.url('tally')}/tally")
        assert sorted(tally["applied"]) == sorted(ids), "every event applied exactly once"
        assert sum(count for count, _ in tally["tally"].values()) == len(ids)

        log = await whole_log(system.url("eventstore"), admin_token())
        assert sorted(e["event"]["id"] for e in log) == sorted(ids), "the store holds each event once"
        assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)
