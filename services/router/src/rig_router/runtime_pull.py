"""The public runtime's pull mode for push pools (docs/design.md section 9): its stream's next entry over HTTP.

The runtime without Valkey asks `GET /api/assignments/next?agentId=dev-e-node` on every tick. A push pool's work
is on `assignments:{agent}`, so the answer is that stream's next entry for group `agents` (consumer = agent id),
handed over and acknowledged at once (HTTP was the delivery), with one wake entry taken off `signal:{agent}` as the
runtime does when it reads the stream itself, and the assignment marked started. Nothing there: None (a 204).
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import ResponseError

from rig_bus.bus import RedisBus
from rig_contracts.entries import EVENT_FIELD
from rig_kit import ServiceKit

GROUP = "agents"
"""The runtime's consumer group on every assignment stream."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def next_entry(kit: ServiceKit, agent: str) -> dict[str, Any] | None:
    """The next entry of `assignments:{agent}` for `agent`, as the runtime reads it; None when there is none."""
    bus = kit.bus
    if not isinstance(bus, RedisBus):
        raise TypeError("pull mode for push pools needs the Valkey bus (RIG_REDIS_URL)")
    client: Any = bus.client
    stream = kit.names.assignments(agent)
    try:
        found = await client.xreadgroup(GROUP, agent, {stream: ">"}, count=1)
    except ResponseError as error:
        if "NOGROUP" not in str(error):
            raise
        # Nobody read this stream yet: the group starts at its beginning, so no entry is skipped.
        await client.xgroup_create(stream, GROUP, id="0", mkstream=True)
        found = await client.xreadgroup(GROUP, agent, {stream: ">"}, count=1)
    if not found:
        return None
    entries: list[Any] = found[0][1]
    entry_id, fields = entries[0]
    await client.xack(stream, GROUP, entry_id)
    await client.lpop(kit.names.signal(agent))
    entry = {_text(k): _text(v) for k, v in fields.items() if _text(k) != EVENT_FIELD}
    return {"id": entry.get("assignmentId", _text(entry_id)), "streamId": _text(entry_id), **entry}
