"""Upcasters: small functions that lift an old `data` shape one version up (eventsourcing's upcast_vN_vM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""(type, from version) → function returning `data` at from version + 1."""


class EventVersionError(ValueError):
    """Raised for a version of `data` this code cannot read: newer than it knows, or with no upcaster."""


def upcaster(kind: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function that turns `kind`'s data at `from_version` into the next version."""

    def register(fn: Upcaster) -> Upcaster:
        if (kind, from_version) in UPCASTERS:
            raise ValueError(f"two upcasters for {kind} v{from_version}: keep one")
        UPCASTERS[(kind, from_version)] = fn
        return fn

    return register


def upcast(raw: dict[str, Any], current: int) -> dict[str, Any]:
    """Return `raw` with its data lifted to `current`, one step at a time; newer versions are refused."""
    kind, version = str(raw.get("type")), raw.get("v", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise EventVersionError(f"{kind}: `v` must be a whole number from 1, got {version!r}")
    if version > current:
        raise EventVersionError(
            f"{kind} v{version} is newer than this code knows (v{current}): upgrade this service to read it")
    data = raw.get("data")
    while version < current:
        step = UPCASTERS.get((kind, version))
        if step is None:
            raise EventVersionError(f"no upcaster for {kind} v{version} → v{version + 1}: register one in upcasting.py")
        if not isinstance(data, dict):
            raise EventVersionError(f"{kind} v{version}: `data` must be an object to upcast, got {data!r}")
        data = step(dict(data))
        version += 1
    return {**raw, "v": version, "data": data}


@upcaster("ISSUE_ASSIGNED", 1)
def upcast_issue_assigned_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 named the pool `agent_id` and had no `attempt`: every v1 assignment was a first attempt."""
    agent = data.pop("agent_id", data.get("agent"))
    return {**data, "agent": agent, "attempt": data.get("attempt", 1)}
