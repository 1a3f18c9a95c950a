"""Consumer-group plumbing shared by the reading loop, the reclaimer and the tools."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import ResponseError


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
