"""What a bus backend offers services, and the one place that picks a backend from the URL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Protocol, Self

from rig_bus.consumer import DEFAULT_OPTIONS, BatchHandler, ConsumerOptions
from rig_bus.messages import Outgoing
from rig_contracts import Names
from rig_service.faults import NO_FAULTS, FaultPoints


class Publishes(Protocol):
    """Appends messages once per event id; returns each new entry id, or None where it was published before."""

    async def publish(self, messages: Sequence[Outgoing]) -> list[str | None]:
        """Publish `messages` in order."""
        ...


class Consumes(Protocol):
    """A member of a consumer group."""

    async def reclaim_once(self) -> int:
        """Claim idle pending entries now (normally a loop of the bus does it)."""
        ...


class Bus(Protocol):
    """A started bus: register consumers before `start()`, publish after."""

    names: Names

    @property
    def publisher(self) -> Publishes:
        """The idempotent publisher."""
        ...

    def consumer(self, stream: str, group: str, consumer: str, handler: BatchHandler,
                 options: ConsumerOptions = DEFAULT_OPTIONS) -> Consumes:
        """Register a consumer group member."""
        ...

    def follow(self, stream: str, group: str, handler: BatchHandler) -> None:
        """Register a reader of every entry of `stream` in this process, not shared among replicas like a group.

        It starts at the first entry `group` has not handled, and `start()` returns once it has caught up: for
        facts every replica must act on at once, such as a revoked token (`rig_bus.follow`).
        """
        ...

    async def start(self) -> None:
        """Connect and start consuming."""
        ...

    async def ping(self) -> None:
        """Raise if the broker does not answer (readiness)."""
        ...

    async def append(self, stream: str, entries: Sequence[Mapping[str, str]]) -> None:
        """Append entries as they are, in order (replays; not idempotent)."""
        ...

    async def covers(self, stream: str, group: str, other: str) -> bool:
        """Whether `group` has handled every entry of `stream` that group `other` has read."""
        ...

    async def trim(self, stream: str) -> int:
        """Trim `stream` below its slowest group; return how many entries went."""
        ...

    async def stop(self) -> None:
        """Stop consuming and disconnect."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None: ...


REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "valkey://", "valkeys://")


def connect(url: str, names: Names, faults: FaultPoints = NO_FAULTS) -> Bus:
    """Build the bus for `url` (not yet connected): Redis/Valkey today; NATS JetStream fits behind the same API."""
    if url.startswith(REDIS_SCHEMES):
        from rig_bus.bus import RedisBus

        return RedisBus(url.replace("valkey", "redis", 1) if url.startswith("valkey") else url, names, faults)
    scheme = url.split("://", maxsplit=1)[0]
    raise ValueError(f"no bus backend for {scheme}:// URLs; set RIG_REDIS_URL to a redis:// or unix:// URL")
