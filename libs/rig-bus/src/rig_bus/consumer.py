"""A consumer group member: batched reads through FastStream, our own reclaim loop, dead letters after N tries."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import cast

import redis.asyncio as aioredis
from faststream import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage
from redis.exceptions import RedisError, ResponseError

from rig_bus.groups import ensure_group
from rig_bus.messages import Delivery, decode_fields
from rig_bus.metrics import BATCH_SECONDS, FAILED, HANDLED
from rig_bus.reclaim import Reclaimer
from rig_contracts import Names
from rig_service.faults import NO_FAULTS, FaultPoints
from rig_service.waiting import stop_task

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]
"""Handles a batch atomically (one transaction); raising leaves every entry of the batch unacknowledged."""


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """How a consumer reads, reclaims and gives up."""

    batch_size: int = 500
    block_ms: int = 500
    min_idle_ms: int = 30_000
    max_deliveries: int = 5
    reclaim_every_s: float = 5.0


DEFAULT_OPTIONS = ConsumerOptions()
"""Reads of 500 entries, reclaim after 30 s idle, dead letter after 5 deliveries."""


class StreamConsumer:
    """Reads new entries of `stream` as `consumer` in `group`, hands them to `handler` in batches, acknowledges.

    A failing batch is retried entry by entry, so one poison entry does not hold back the rest; the failing
    entry stays pending with its error recorded, is reclaimed after the idle time, and goes to `rig:dead`
    once it has been delivered `max_deliveries` times.
    """

    def __init__(self, broker: RedisBroker, names: Names, stream: str, group: str, consumer: str,
                 handler: BatchHandler, options: ConsumerOptions = DEFAULT_OPTIONS,
                 faults: FaultPoints = NO_FAULTS) -> None:
        self.stream, self.group, self.consumer = stream, group, consumer
        self._names = names
        self._handler = handler
        self._options = options
        self._faults = faults
        self._client: aioredis.Redis | None = None
        self.paused = False
        self._reclaim_task: asyncio.Task[None] | None = None
        self._subscriber = broker.subscriber(
            stream=StreamSub(stream, group=group, consumer=consumer, batch=True,
                             max_records=options.batch_size, polling_interval=options.block_ms),
            ack_policy=AckPolicy.MANUAL,
        )
        self._subscriber(self._on_batch)

    async def prepare(self, client: aioredis.Redis) -> None:
        """Create the group (from the stream's start) before the broker's subscriber would create it at its end."""
        self._client = client
        await ensure_group(client, self.stream, self.group)

    def start_reclaiming(self) -> None:
        """Start the second loop that claims idle pending entries."""
        self._reclaim_task = asyncio.create_task(self._reclaim_forever(), name=f"reclaim {self.stream}/{self.group}")

    async def stop(self) -> None:
        """Stop the reclaim loop (the broker stops the reading loop)."""
        if self._reclaim_task is not None:
            # Cancelled again if need be: a cancellation landing in a sweep's Valkey command can be lost (see
            # rig_service.waiting), and awaiting the task then waited forever (swallowing our caller's cancellation).
            await stop_task(self._reclaim_task, again_after_s=1.0)
            self._reclaim_task = None

    async def pause(self) -> None:
        """Stop reading and reclaiming until `resume()` (a projection being rebuilt must not see live entries)."""
        self.paused = True
        await self._subscriber.stop()

    async def resume(self) -> None:
        """Read again from where the group stopped."""
        self.paused = False
        await self._revive()

    async def reclaim_once(self) -> int:
        """Run one reclaim sweep now; return how many idle entries were seen."""
        if self.paused:
            return 0
        await self._revive()
        reclaimer = Reclaimer(self._redis, self._names, self.stream, self.group, self.consumer,
                              min_idle_ms=self._options.min_idle_ms, max_deliveries=self._options.max_deliveries)
        try:
            return await reclaimer.sweep(self.process)
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            log.warning("group %s of %s is gone (Valkey lost its data?): creating it again", self.group, self.stream)
            await ensure_group(self._redis, self.stream, self.group)
            return 0

    async def _revive(self) -> None:
        """Start reading again after Valkey lost the group (a restart without persistence stops the reader)."""
        if self._subscriber.running or self.paused:
            return
        log.warning("reader of %s/%s is not running (resumed, or Valkey lost the group): reading again",
                    self.stream, self.group)
        await ensure_group(self._redis, self.stream, self.group)
        await self._subscriber.start()

    async def recover_own(self) -> int:
        """Handle the entries this consumer name left pending before a restart, without waiting for the idle time."""
        handled, last = 0, "0"
        while True:
            reply = cast("list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]", await self._redis.xreadgroup(
                self.group, self.consumer, {self.stream: last}, count=self._options.batch_size))
            entries = [(i, f) for i, f in (reply[0][1] if reply else []) if f]
            if not entries:
                return handled
            deliveries = [Delivery(self.stream, i.decode(), decode_fields(f), 2) for i, f in entries]
            log.info("recovering %d entries %s left pending in %s/%s", len(deliveries), self.consumer,
                     self.stream, self.group)
            await self.process(deliveries)
            handled += len(deliveries)
            last = deliveries[-1].entry_id

    async def _reclaim_forever(self) -> None:
        try:
            await self.recover_own()
        except Exception:
            log.exception("recovering the pending entries of %s failed; the reclaim loop will take them",
                          self.consumer)
        while True:
            await asyncio.sleep(self._options.reclaim_every_s)
            try:
                await self.reclaim_once()
            except (RedisError, OSError) as error:
                log.warning("reclaim sweep of %s/%s could not reach Valkey (%s); retrying in %.1fs",
                            self.stream, self.group, error, self._options.reclaim_every_s)
            except Exception:
                log.exception("reclaim sweep of %s/%s failed; retrying in %.1fs",
                              self.stream, self.group, self._options.reclaim_every_s)

    async def _on_batch(self, msg: RedisBatchStreamMessage) -> None:
        raw = msg.raw_message
        deliveries = [Delivery(self.stream, entry_id.decode(), decode_fields(fields))
                      for entry_id, fields in zip(raw["message_ids"], raw["data"], strict=True)]
        try:
            await self.process(deliveries)
        except Exception:
            log.exception("batch of %d from %s/%s left pending; it will be reclaimed",
                          len(deliveries), self.stream, self.group)

    async def process(self, deliveries: Sequence[Delivery]) -> None:
        """Handle a batch, falling back to one entry at a time when it fails; acknowledge what succeeded."""
        if not deliveries:
            return
        self._faults.reach("consumer.after_read")
        try:
            with BATCH_SECONDS.labels(self.stream, self.group).time():
                await self._handler(deliveries)
        except Exception as error:
            if len(deliveries) > 1:
                for delivery in deliveries:
                    await self.process([delivery])
                return
            await self._record_failure(deliveries[0], error)
            return
        self._faults.reach("consumer.before_ack")
        await self._acknowledge(deliveries)

    async def _acknowledge(self, deliveries: Sequence[Delivery]) -> None:
        ids = [d.entry_id for d in deliveries]
        await self._redis.xack(self.stream, self.group, *ids)
        retried = [d.entry_id for d in deliveries if d.deliveries > 1]
        if retried:
            await self._redis.hdel(self._names.errors(self.stream, self.group), *retried)
        HANDLED.labels(self.stream, self.group).inc(len(ids))

    async def _record_failure(self, delivery: Delivery, error: Exception) -> None:
        FAILED.labels(self.stream, self.group).inc()
        text = "".join(traceback.format_exception_only(error)).strip()
        log.warning("handler failed on %s of %s/%s (delivery %d): %s",
                    delivery.entry_id, self.stream, self.group, delivery.deliveries, text)
        await self._redis.hset(self._names.errors(self.stream, self.group), delivery.entry_id, text[:2000])

    @property
    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("consumer used before the bus started: call RedisBus.start() first")
        return self._client
