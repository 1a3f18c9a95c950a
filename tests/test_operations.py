"""The operator's `rig` command on a running system: replay rebuilds, dead letters, republish after data loss."""

from __future__ import annotations

import asyncio
import json
from typing import TypedDict

import asyncpg
from system_support import admin_token, build, eventually, get_json, post_json, rig, whole_log


class Servers(TypedDict):
    database_url: str
    redis_url: str
    key_prefix: str
    schema_suffix: str


def servers(database_url: str, redis_url: str, key_prefix: str, schema_suffix: str) -> Servers:
    return Servers(database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                   schema_suffix=schema_suffix)


async def applied_count(system) -> int:
    return len((await get_json(f"{system.url('tally')}/tally"))["applied"])


async def test_replay_rebuilds_a_projection_identical_to_the_live_one(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    common = servers(database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                     schema_suffix=schema_suffix)
    system = build(["eventstore", "tally", "producer", "edge"], folder=tmp_path, **common)
    async with system:
        ids = (await post_json(f"{system.url('producer')}/produce", {"count": 1500, "subjects": 7}))["ids"]

        async def settled() -> bool:
            return (await applied_count(system) == len(ids)
                    and len(await whole_log(system.url("eventstore"), admin_token())) == len(ids))
        await eventually(settled, what="tally and store to hold every event")
        live = await get_json(f"{system.url('tally')}/tally")

        result = await asyncio.to_thread(rig, "replay", "--service", "tally", system=system, folder=tmp_path,
                                         **common)
        assert result.returncode == 0, result.stdout + result.stderr
        rebuilt = await get_json(f"{system.url('tally')}/tally")
        assert rebuilt["tally"] == live["tally"], "counts and last event per subject are identical"
        assert sorted(rebuilt["applied"]) == sorted(live["applied"])
        assert await redis.xlen(f"{key_prefix}rig:replay:tally") < len(ids), "the finished replay is trimmed"

        more = (await post_json(f"{system.url('producer')}/produce", {"count": 10}))["ids"]

        async def live_again() -> bool:
            return await applied_count(system) == len(ids) + len(more)
        await eventually(live_again, what="the tally to read live events again after the replay")

        shown = await asyncio.to_thread(rig, "status", "--json", system=system, folder=tmp_path, **common)
        status = json.loads(shown.stdout)
        up = {s["name"]: s["up"] for s in status["services"]}
        assert up["edge"] and up["eventstore"] and up["tally"], status
        groups = {g["name"]: g for g in status["valkey"]["groups"]}
        assert {"eventstore", "tally", "producer"} <= set(groups)
        assert status["valkey"]["streams"][f"{key_prefix}rig:events"] >= len(ids)


async def test_a_dead_letter_is_listed_retried_and_then_handled_once(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    common = servers(database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                     schema_suffix=schema_suffix)
    system = build(["tally", "producer"], folder=tmp_path, **common)
    async with system:
        conn = await asyncpg.connect(database_url)
        await conn.execute(f'INSERT INTO "tally{schema_suffix}".refused VALUES ($1)', "o/r#2")
        ids = (await post_json(f"{system.url('producer')}/produce", {"count": 6, "subjects": 3}))["ids"]

        async def dead_lettered() -> bool:
            return await redis.xlen(f"{key_prefix}rig:dead") == 2
        await eventually(dead_lettered, within_s=30, what="the refused events to reach rig:dead")
        assert await applied_count(system) == 4

        listed = await asyncio.to_thread(rig, "dead", "list", "--json", system=system, folder=tmp_path, **common)
        assert listed.returncode == 0, listed.stderr
        letters = json.loads(listed.stdout)["dead_letters"]
        assert sorted(letter["event_id"] for letter in letters) == sorted([ids[1], ids[4]])
        assert all("tally refuses o/r#2" in letter["error"] for letter in letters)

        await conn.execute(f'DELETE FROM "tally{schema_suffix}".refused')
        await conn.close()
        retried = await asyncio.to_thread(rig, "dead", "retry", "--all", system=system, folder=tmp_path, **common)
        assert retried.returncode == 0, retried.stdout + retried.stderr

        async def all_applied() -> bool:
            return await applied_count(system) == 6
        await eventually(all_applied, what="the retried events to be handled")
        await asyncio.sleep(1.0)
        tally = await get_json(f"{system.url('tally')}/tally")
        assert sorted(tally["applied"]) == sorted(ids), "each retried event handled exactly once"
        assert await redis.xlen(f"{key_prefix}rig:dead") == 0


async def test_republish_after_valkey_restarts_empty_restores_what_was_not_handled(
        tmp_path, database_url, private_redis, key_prefix, schema_suffix):
    common = servers(database_url=database_url, redis_url=private_redis.url, key_prefix=key_prefix,
                     schema_suffix=schema_suffix)
    system = build(["eventstore", "tally", "producer"], folder=tmp_path, extra_env={"RIG_TALLY_DELAY_MS": "150"},
                   **common)
    async with system:
        ids = (await post_json(f"{system.url('producer')}/produce", {"count": 3000}))["ids"]

        async def started() -> bool:
            return await applied_count(system) >= 200
        await eventually(started, what="the tally to be part-way through")
        private_redis.stop()
        private_redis.start()
        await asyncio.sleep(1.0)
        assert await applied_count(system) < len(ids), "some events were lost with Valkey's data"

        result = await asyncio.to_thread(rig, "republish", "--since", "1h", "--json", system=system,
                                         folder=tmp_path, **common)
        assert result.returncode == 0, result.stdout + result.stderr

        async def restored() -> bool:
            return await applied_count(system) >= len(ids)
        await eventually(restored, within_s=120, what="every event to be handled after the republish")
        await asyncio.sleep(1.0)
        tally = await get_json(f"{system.url('tally')}/tally")
        assert sorted(tally["applied"]) == sorted(ids), "no event handled twice, none missing"

        async def stored() -> bool:
            return len(await whole_log(system.url("eventstore"), admin_token())) >= len(ids)
        await eventually(stored, what="the store to hold every event")
        log = await whole_log(system.url("eventstore"), admin_token())
        assert sorted(e["event"]["id"] for e in log) == sorted(ids)
