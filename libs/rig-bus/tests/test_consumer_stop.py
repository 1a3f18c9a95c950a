"""Stopping a consumer's reclaim loop on real Valkey, whichever command the stop lands in."""

import asyncio

from faststream.redis import RedisBroker

from rig_bus.consumer import ConsumerOptions, StreamConsumer
from rig_contracts import Names


async def test_the_reclaim_loop_stops_whichever_valkey_command_the_stop_lands_in(redis, redis_url, key_prefix):
    # On Python 3.11 redis-py loses a cancellation that lands just as a command has been sent (its wait_for); the
    # consumer's stop awaited the cancelled loop, which ran on, until its own caller was cancelled.
    names = Names(key_prefix)
    await redis.ping()  # a connection in the pool: the first command's steps come at the same points each time

    async def nothing(_batch: object) -> None:
        return None

    for steps in range(12):
        consumer = StreamConsumer(RedisBroker(redis_url), names, names.events, "stopping", "c", nothing,
                                  ConsumerOptions(reclaim_every_s=0))
        consumer.paused = True  # no reader to start: the loop's only Valkey command is the first recovery read
        await consumer.prepare(redis)
        consumer.start_reclaiming()
        for _ in range(steps):
            await asyncio.sleep(0)
        async with asyncio.timeout(10) as limit:
            await consumer.stop()
        # Not reached by the limit: the old stop swallowed the limit's cancellation too (suppress(CancelledError)).
        assert not limit.expired(), steps
