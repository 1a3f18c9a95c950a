"""A test process: `relay` publishes a schema's outbox; `consume` runs the counting projection as one consumer.

Configured only by `RIG_…` settings (and RIG_TEST_SCHEMA / RIG_TEST_CONSUMER), as a real service would be.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from programs import counting
from rig_bus.bus import RedisBus
from rig_bus.consumer import ConsumerOptions
from rig_contracts import Names
from rig_db.inbox import InboxProjection
from rig_db.pool import create_pool
from rig_db.relay import OutboxRelay
from rig_service.faults import FaultPoints
from rig_service.settings import CommonSettings


async def main(role: str) -> None:
    settings = CommonSettings()
    schema = os.environ["RIG_TEST_SCHEMA"]
    assert settings.database_url and settings.redis_url
    names = Names(settings.key_prefix)
    faults = FaultPoints(settings.fault_point)
    pool = await create_pool(settings.database_url, schema)
    await counting.prepare(pool, schema)
    bus = RedisBus(settings.redis_url, names, faults)
    if role == "consume":
        bus.consumer(names.events, "counting", os.environ["RIG_TEST_CONSUMER"],
                     InboxProjection(pool, schema, counting.apply),
                     ConsumerOptions(batch_size=50, block_ms=100, reclaim_every_s=0.2,
                                     min_idle_ms=int(os.environ.get("RIG_TEST_MIN_IDLE_MS", "300"))))
    async with bus:
        print("ready", flush=True)
        if role == "relay":
            await OutboxRelay(pool, bus.publisher, schema, batch_size=50, idle_poll_s=0.1, faults=faults).run()
        else:
            await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
