"""Wake entries on `signal:{agent}` and what the pool's stream says about taken work (leases, docs/design.md 9).

The public agent runtime sends no WORK_STARTED: that it took an assignment shows in its stream instead (the
`agents` group delivered the entry). The wake list must not grow past the work waiting for it, or KEDA keeps the
pool awake for entries nobody pops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.exceptions import ResponseError

from rig_bus.bus import RedisBus
from rig_kit import ServiceKit

GROUP = "agents"
"""The agents' consumer group on every assignment stream."""

LOOKBACK = 500
"""Delivered entries looked at (newest first) to find which assignments were taken."""


def _client(kit: ServiceKit) -> Any:
    bus = kit.bus
    if not isinstance(bus, RedisBus):
        raise TypeError("wake entries need the Valkey bus (RIG_REDIS_URL)")
    return bus.client


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def delivered(kit: ServiceKit, agent: str, assignment_ids: Sequence[str]) -> list[str]:
    """Which of `assignment_ids` the `agents` group of `assignments:{agent}` has already delivered to a consumer."""
    if not assignment_ids:
        return []
    client, stream = _client(kit), kit.names.assignments(agent)
    try:
        groups = await client.xinfo_groups(stream)
    except ResponseError:
        return []  # no stream yet: nothing was delivered
    last = next((_text(g["last-delivered-id"]) for g in groups if _text(g["name"]) == GROUP), None)
    if last is None or last == "0-0":
        return []
    entries = await client.xrevrange(stream, max=last, count=LOOKBACK)
    taken = {_text(fields.get(b"assignmentId", fields.get("assignmentId", b""))) for _id, fields in entries}
    return [i for i in assignment_ids if i in taken]


async def outstanding(kit: ServiceKit, agent: str) -> int:
    """Wake entries nobody popped yet."""
    return int(await _client(kit).llen(kit.names.signal(agent)))


async def push(kit: ServiceKit, agent: str, assignment_id: str) -> None:
    """One more wake entry (the list KEDA and the supervisor watch)."""
    await _client(kit).lpush(kit.names.signal(agent), f"again:{assignment_id}")
