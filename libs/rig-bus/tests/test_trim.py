"""Trimming `rig:events` never drops an entry that some group has not read and acknowledged."""

from __future__ import annotations

from rig_bus.groups import ensure_group
from rig_bus.trim import Trimmer


async def add(redis, stream: str, n: int) -> list[str]:
    return [(await redis.xadd(stream, {"n": str(i)})).decode() for i in range(n)]


async def read(redis, stream: str, group: str, count: int) -> list[str]:
    reply = await redis.xreadgroup(group, "c", {stream: ">"}, count=count)
    return [entry_id.decode() for entry_id, _ in reply[0][1]] if reply else []


async def test_trim_keeps_everything_the_slowest_group_still_needs(redis, key_prefix):
    stream = f"{key_prefix}rig:events"
    ids = await add(redis, stream, 20)
    await ensure_group(redis, stream, "fast")
    await ensure_group(redis, stream, "slow")
    fast = await read(redis, stream, "fast", 20)
    await redis.xack(stream, "fast", *fast)
    slow = await read(redis, stream, "slow", 12)
    await redis.xack(stream, "slow", *slow[:5], *slow[7:])  # ids[5] and ids[6] stay pending

    removed, floor = await Trimmer(redis).trim(stream)
    assert (removed, floor) == (5, ids[5])
    remaining = [entry_id.decode() for entry_id, _ in await redis.xrange(stream)]
    assert remaining == ids[5:], "the pending entries and everything the slow group has not read are kept"

    await redis.xack(stream, "slow", ids[5], ids[6])
    removed, _ = await Trimmer(redis).trim(stream)
    assert removed == 7
    assert [e.decode() for e, _ in await redis.xrange(stream)] == ids[12:]


async def test_a_group_that_has_read_nothing_holds_the_whole_stream(redis, key_prefix):
    stream = f"{key_prefix}rig:events"
    await add(redis, stream, 5)
    await ensure_group(redis, stream, "reader")
    await ensure_group(redis, stream, "idle")
    await redis.xack(stream, "reader", *await read(redis, stream, "reader", 5))
    assert (await Trimmer(redis).trim(stream))[0] == 0
    assert await redis.xlen(stream) == 5


async def test_without_groups_nothing_is_trimmed(redis, key_prefix):
    stream = f"{key_prefix}rig:events"
    await add(redis, stream, 3)
    assert await Trimmer(redis).trim(stream) == (0, "")
    assert await Trimmer(redis).trim(f"{key_prefix}missing") == (0, "")
    assert await redis.xlen(stream) == 3
