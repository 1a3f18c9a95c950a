"""The agent's main loop (docs/design.md sections 3, 4): take work, hold it while running, give it up only when done."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from prometheus_client import Counter, Gauge
from redis.exceptions import RedisError

from rig_agent.assignment import Assignment
from rig_agent.busy import BusyMarker, every
from rig_service.waiting import stop_task

log = logging.getLogger(__name__)

TAKEN = Counter("rig_agent_assignments_taken_total", "Assignments taken, by how they came", ["agent", "how"])
FINISHED = Counter("rig_agent_assignments_finished_total", "Assignments finished, by outcome", ["agent", "outcome"])
WORKING = Gauge("rig_agent_working", "1 while this process holds an assignment", ["agent"])

HALT_AGAIN_S = 1.0
"""How long `halt` lets the work clean up after a cancellation before cancelling again (one may have been lost)."""


class Worker(Protocol):
    """What an agent does with one assignment (Dev-E, Review-E, …)."""

    async def handle(self, assignment: Assignment) -> None:
        """Do the work; raising leaves the assignment pending, to be retried after the reclaim idle time."""

    async def give_up(self, assignment: Assignment, reason: str) -> None:
        """Hand an assignment that kept failing back to people (ISSUE_ESCALATED)."""


class Source(Protocol):
    """Where assignments come from: the pool's stream (rig_agent.stream) or the pull API (rig_agent.pull)."""

    key: str

    async def join(self) -> None:
        """Get ready to take work."""

    async def take(self, block_ms: int) -> Assignment | None:
        """The next assignment, waiting up to `block_ms` for one."""

    async def keep_claimed(self, entry_id: str) -> None:
        """Say again that this agent still holds the assignment."""

    async def ack(self, entry_id: str) -> None:
        """The assignment is finished."""

    async def abandon(self, entry_id: str) -> None:
        """The assignment failed here: leave it to be tried again."""

    async def take_wake_entry(self) -> None:
        """Remove the wake entry of an assignment taken for the first time."""

    async def drop_stale_wake_entries(self) -> int:
        """Drop wake entries with no work behind them; how many."""


class Presence(Protocol):
    """Where the loop says what it is doing (the heartbeat)."""

    current_task: str | None


@dataclass(frozen=True, slots=True)
class LoopTimes:
    """How long the loop waits and holds on."""

    block_s: float = 1.0
    idle_exit_s: float | None = 300.0
    """None: never exit on idle (in a cluster, KEDA decides)."""
    reclaim_idle_s: float = 600.0
    max_deliveries: int = 3


class AgentLoop:
    """Takes one assignment at a time from its pool and keeps it claimed and the pool marked busy while working."""

    def __init__(self, agent: str, stream: Source, busy: BusyMarker, worker: Worker,
                 presence: Presence, times: LoopTimes) -> None:
        self.agent = agent
        self._stream = stream
        self._busy = busy
        self._worker = worker
        self._presence = presence
        self._times = times
        self._stopping = asyncio.Event()
        self._running: asyncio.Task[Any] | None = None

    def stop(self) -> None:
        """Take no more work: `run` returns once the current assignment is finished."""
        self._stopping.set()

    async def halt(self) -> None:
        """Stop now: take no more work, cancel the current one (left pending, for another try) and wait for `run`.

        Not a bare `task.cancel()`: a cancellation that lands in a Valkey command can be lost on Python 3.11
        (rig_service.waiting), and the loop would run on. The flag ends the loop between assignments; work that
        lost its cancellation is cancelled again.
        """
        self._stopping.set()
        if self._running is not None:
            await stop_task(self._running, again_after_s=HALT_AGAIN_S)

    async def run(self) -> None:
        """Work until stopped, or (outside a cluster) until idle for the idle time. Run it in a task of its own."""
        self._running = asyncio.current_task()
        try:
            await self._take_until_stopped()
        finally:
            self._running = None

    async def _take_until_stopped(self) -> None:
        await self._stream.join()
        idle_since = time.monotonic()
        block_ms = max(1, int(self._times.block_s * 1000))
        while not self._stopping.is_set():
            try:
                assignment = await self._stream.take(block_ms)
            except (RedisError, OSError, httpx.HTTPError) as error:
                log.warning("cannot read %s (%s); retrying", self._stream.key, error)
                await asyncio.sleep(self._times.block_s)
                continue
            if assignment is not None and self._stopping.is_set():
                return  # taken as the stop came: left pending in this consumer's list, for another try
            if assignment is not None:
                await self.work(assignment)
                idle_since = time.monotonic()
            elif self._idle_for(idle_since):
                await self._stream.drop_stale_wake_entries()
                if await self._nothing_left(block_ms):
                    log.info("%s idle for %.0fs: exiting", self.agent, time.monotonic() - idle_since)
                    return

    def _idle_for(self, since: float) -> bool:
        limit = self._times.idle_exit_s
        return limit is not None and time.monotonic() - since >= limit

    async def _nothing_left(self, block_ms: int) -> bool:
        assignment = await self._stream.take(block_ms)
        if assignment is None:
            return True
        await self.work(assignment)
        return False

    async def work(self, assignment: Assignment) -> None:
        """Hold `assignment` (claim, busy marker, wake entry) while the worker handles it; ack when it is done."""
        how = "new" if assignment.deliveries == 1 else "retried"
        TAKEN.labels(self.agent, how).inc()
        if assignment.deliveries == 1:
            await self._stream.take_wake_entry()
        log.info("took %s (%s, delivery %d)", assignment.subject, assignment.entry_id, assignment.deliveries)
        async with self._holding(assignment):
            if assignment.deliveries > self._times.max_deliveries:
                await self._worker.give_up(assignment, f"the assignment failed {assignment.deliveries - 1} times")
                outcome = "given up"
            else:
                try:
                    await self._worker.handle(assignment)
                    outcome = "done"
                except Exception:
                    # Left pending on purpose: another try comes after the reclaim idle time, counted by XPENDING.
                    log.exception("assignment %s for %s failed; it will be retried", assignment.entry_id,
                                  assignment.subject)
                    FINISHED.labels(self.agent, "failed").inc()
                    await self._stream.abandon(assignment.entry_id)
                    return
        await self._stream.ack(assignment.entry_id)
        FINISHED.labels(self.agent, outcome).inc()

    @contextlib.asynccontextmanager
    async def _holding(self, assignment: Assignment) -> AsyncIterator[None]:
        claim_every = self._times.reclaim_idle_s / 3

        async def keep_claimed() -> None:
            await self._stream.keep_claimed(assignment.entry_id)

        self._presence.current_task = assignment.subject
        WORKING.labels(self.agent).set(1)
        try:
            async with self._busy.held(), every(claim_every, keep_claimed, f"keep {assignment.entry_id} claimed"):
                yield
        finally:
            self._presence.current_task = None
            WORKING.labels(self.agent).set(0)
