"""Replays: feed a service's replay stream from the log, once the store holds all that service has read."""

from __future__ import annotations

import asyncio
import logging

from rig_eventstore import store
from rig_kit import ServiceKit
from rig_kit.rebuild import END_FIELD, replay_entry

log = logging.getLogger(__name__)

BATCH = 2000


class NotCaughtUpError(RuntimeError):
    """The store has not yet received everything the rebuilding service had read."""


async def wait_until_covered(kit: ServiceKit, service: str, timeout_s: float) -> None:
    """Wait until the store's group has handled every live event `service` had read, so the replay misses none."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await kit.bus.covers(kit.names.events, kit.name, service):
        if asyncio.get_running_loop().time() > deadline:
            raise NotCaughtUpError(f"the event store is still behind {service} after {timeout_s:.0f}s; "
                              "check `rig status` for its lag and try again")
        await asyncio.sleep(0.05)


async def replay(kit: ServiceKit, service: str, after: int, rebuild_id: str, timeout_s: float) -> tuple[int, int]:
    """Append every event after `after` to `service`'s replay stream, then the end marker; return (count, last)."""
    await wait_until_covered(kit, service, timeout_s)
    stream = kit.names.replay(service)
    async with kit.pool.acquire() as conn:
        final = await store.last_seq(conn)
    count, position = 0, after
    while position < final:
        async with kit.pool.acquire() as conn:
            rows = await store.page(conn, position, BATCH)
        rows = [r for r in rows if r["seq"] <= final]
        if not rows:
            break
        await kit.bus.append(stream, [replay_entry(r["seq"], r["body"]) for r in rows])
        count += len(rows)
        position = rows[-1]["seq"]
    await kit.bus.append(stream, [{END_FIELD: rebuild_id, "last_seq": str(position)}])
    log.info("replayed %d events (after %d, up to %d) to %s for rebuild %s", count, after, position, service,
             rebuild_id)
    return count, position
