"""Consumer-group plumbing shared by the reading loop, the reclaimer and the tools."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from rig_bus.messages import text


async def ensure_group(client: aioredis.Redis, stream: str, group: str, start_id: str = "0") -> bool:
    """Create `group` on `stream` (and the stream) reading from `start_id`; False if it already existed.

    A new group starts at the beginning of what the stream still holds, so a service that joins late
    reads every entry not yet trimmed; older history comes from the event store.
    """
    try:
        await client.xgroup_create(stream, group, id=start_id, mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
        return False
    return True


def entry_id(text: str) -> tuple[int, int]:
    """A stream entry id as a comparable pair."""
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def group_covers(client: aioredis.Redis, stream: str, group: str, other: str) -> bool:
    """Whether `group` has handled (read and acknowledged) every entry that `other` has read.

    True when `other` does not exist. With entries pending, `group` covers only what lies before the oldest.
    """
    groups = {text(g["name"]): g for g in await client.xinfo_groups(stream)}
    if other not in groups:
        return True
    if group not in groups:
        return False
    target = entry_id(text(groups[other]["last-delivered-id"]))
    pending = await client.xpending(stream, group)
    if pending["pending"]:
        return entry_id(text(pending["min"])) > target
    return entry_id(text(groups[group]["last-delivered-id"])) >= target

