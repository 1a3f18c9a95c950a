"""The Redis backend of the bus: one FastStream broker per process, its consumers and its publisher."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import TracebackType

import redis.asyncio as aioredis
from faststream.redis import RedisBroker

from rig_bus.consumer import DEFAULT_OPTIONS, BatchHandler, ConsumerOptions, StreamConsumer
from rig_bus.follow import StreamFollower
from rig_bus.groups import group_covers
from rig_bus.publish import Publisher
from rig_bus.trim import Trimmer
from rig_contracts import Names
from rig_service.faults import NO_FAULTS, FaultPoints

log = logging.getLogger(__name__)


class RedisBus:
    """Owns the broker connection; register consumers first, then `start()` (or use `async with`)."""

    def __init__(self, url: str, names: Names, faults: FaultPoints = NO_FAULTS) -> None:
        self.names = names
        self.broker = RedisBroker(url, logger=logging.getLogger("rig_bus.broker"), log_level=logging.DEBUG)
        self._faults = faults
        self._consumers: list[StreamConsumer] = []
        self._followers: list[StreamFollower] = []
        self._client: aioredis.Redis | None = None
        self._publisher: Publisher | None = None

    def consumer(self, stream: str, group: str, consumer: str, handler: BatchHandler,
                 options: ConsumerOptions = DEFAULT_OPTIONS) -> StreamConsumer:
        """Register a consumer of `stream` in `group`; it starts reading when the bus starts."""
        member = StreamConsumer(self.broker, self.names, stream, group, consumer, handler, options, self._faults)
        self._consumers.append(member)
        return member

    def follow(self, stream: str, group: str, handler: BatchHandler) -> None:
        """Hand `handler` every entry of `stream` in this process too, from where `group` has not handled yet."""
        self._followers.append(StreamFollower(stream, group, handler))

    async def start(self) -> None:
        """Connect, create the groups, catch the followers up, start reading and reclaiming."""
        self._client = await self.broker.connect()
        self._publisher = Publisher(self._client, self.names)
        for member in self._consumers:
            await member.prepare(self._client)
        for follower in self._followers:
            await follower.catch_up(self._client)
        await self.broker.start()
        for member in self._consumers:
            member.start_reclaiming()
        for follower in self._followers:
            follower.start()

    async def stop(self) -> None:
        """Stop following, reclaiming and reading, then disconnect."""
        for follower in self._followers:
            await follower.stop()
        for member in self._consumers:
            await member.stop()
        # Stop each reader before the connection closes under its blocking read (else FastStream logs an error).
        for subscriber in self.broker.subscribers:
            await subscriber.stop()
        await self.broker.stop()
        self._client = None

    async def ping(self) -> None:
        """Raise if Valkey does not answer."""
        await self.client.ping()

    async def append(self, stream: str, entries: Sequence[Mapping[str, str]]) -> None:
        """Append entries as they are, in order, in one round trip per 1,000."""
        for start in range(0, len(entries), 1000):
            async with self.client.pipeline(transaction=False) as pipe:
                for fields in entries[start:start + 1000]:
                    pipe.xadd(stream, dict(fields))  # type: ignore[arg-type]
                await pipe.execute()

    async def covers(self, stream: str, group: str, other: str) -> bool:
        """Whether `group` has handled every entry of `stream` that `other` has read."""
        return await group_covers(self.client, stream, group, other)

    async def trim(self, stream: str) -> int:
        """Trim `stream` below its slowest group."""
        removed, _ = await Trimmer(self.client).trim(stream)
        return removed

    @property
    def client(self) -> aioredis.Redis:
        """The broker's Redis client (for scripts and tools)."""
        if self._client is None:
            raise RuntimeError("bus not started: call start() first")
        return self._client

    @property
    def publisher(self) -> Publisher:
        """The idempotent publisher on this bus's connection."""
        if self._publisher is None:
            raise RuntimeError("bus not started: call start() first")
        return self._publisher

    async def __aenter__(self) -> RedisBus:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
