"""A process's own reader of a stream starts where its group has not handled yet, and hears what comes next."""

from __future__ import annotations

from rig_bus.follow import StreamFollower, before, unhandled_from
from rig_bus.groups import ensure_group
from rig_testing.waiting import eventually


async def add(redis, stream: str, n: int) -> list[str]:
    return [(await redis.xadd(stream, {"n": str(i)})).decode() for i in range(n)]


async def read(redis, stream: str, group: str, count: int) -> list[str]:
    reply = await redis.xreadgroup(group, "c", {stream: ">"}, count=count)
    return [entry_id.decode() for entry_id, _ in reply[0][1]] if reply else []


def test_before_is_the_id_just_below() -> None:
    assert (before("1700-3"), before("1700-0"), before("0-0")) == ("1700-2", f"1699-{2**64 - 1}", "0-0")


async def test_catch_up_starts_at_the_oldest_pending_entry_then_follows(redis, key_prefix):
    stream = f"{key_prefix}rig:events"
    ids = await add(redis, stream, 10)
    await ensure_group(redis, stream, "svc")
    delivered = await read(redis, stream, "svc", 6)
    await redis.xack(stream, "svc", *delivered[:3], *delivered[4:])  # ids[3] pending: handled up to ids[2] only
    assert await unhandled_from(redis, stream, "svc") == before(ids[3])

    heard: list[str] = []

    async def hear(deliveries) -> None:
        heard.extend(d.entry_id for d in deliveries)

    follower = StreamFollower(stream, "svc", hear, block_ms=50)
    assert await follower.catch_up(redis) == 7
    assert heard == ids[3:]
    follower.start()
    try:
        later = await add(redis, stream, 2)

        async def heard_later() -> bool:
            return heard[-2:] == later
        await eventually(heard_later, within_s=5, what="the follower to hear new entries")
    finally:
        await follower.stop()


async def test_with_nothing_pending_it_starts_after_the_last_delivered_entry(redis, key_prefix):
    stream = f"{key_prefix}rig:events"
    ids = await add(redis, stream, 4)
    await ensure_group(redis, stream, "svc")
    await redis.xack(stream, "svc", *await read(redis, stream, "svc", 2))
    assert await unhandled_from(redis, stream, "svc") == ids[1]
    assert await unhandled_from(redis, f"{key_prefix}nothing", "svc") == "0-0"
