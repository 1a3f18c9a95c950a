"""Wake agent processes the way KEDA does: one starts when `LLEN signal:{agent}` or `LLEN busy:{agent}` > 0."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence

import redis.asyncio as aioredis
from prometheus_client import Counter
from redis.exceptions import RedisError

from rig_contracts import Names
from rig_supervisor.backoff import Backoff
from rig_supervisor.process import Child

log = logging.getLogger(__name__)

WAKES = Counter("rig_supervisor_agent_wakes_total", "Agent processes started because work was waiting", ["agent"])


QUICK_EXIT_S = 1.0
"""An agent that exits sooner than this while work still waits is started again only after a backoff."""


class AgentWaker:
    """Polls the wake lists and keeps one process per agent pool running while there is work."""

    def __init__(self, client: aioredis.Redis, names: Names, agents: Sequence[str],
                 make_child: Callable[[str], Child], poll_s: float = 0.05) -> None:
        self._client = client
        self._names = names
        self._agents = list(agents)
        self._make_child = make_child
        self._poll_s = poll_s
        self.children: dict[str, Child] = {}
        self._not_before: dict[str, float] = {}
        self._backoff: dict[str, Backoff] = {a: Backoff() for a in agents}
        self._watchers: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def waiting(self) -> Mapping[str, int]:
        """Per agent, how many wake entries plus busy markers there are."""
        async with self._client.pipeline(transaction=False) as pipe:
            for agent in self._agents:
                pipe.llen(self._names.signal(agent))
                pipe.llen(self._names.busy(agent))
            counts = await pipe.execute()
        return {agent: int(counts[2 * i]) + int(counts[2 * i + 1]) for i, agent in enumerate(self._agents)}

    async def run(self) -> None:
        """Poll until stopped; a Valkey outage is logged and waited out."""
        # Ends on the flag too: the cancellation of this task can be lost in a Valkey command (rig_service.waiting).
        while not self._stopping:
            try:
                await self.wake_once()
            except (RedisError, OSError) as error:
                log.warning("cannot read the wake lists (%s); retrying", error)
                await asyncio.sleep(1.0)
            await asyncio.sleep(self._poll_s)

    async def wake_once(self) -> list[str]:
        """Start a process for every agent with work and none running; return the agents woken."""
        woken = []
        now = time.monotonic()
        for agent, count in (await self.waiting()).items():
            child = self.children.get(agent)
            if count == 0 or (child is not None and child.running) or now < self._not_before.get(agent, 0.0):
                continue
            if self._stopping:  # no agent started once `stop` has stopped the others: it would run on unstopped
                break
            child = self._make_child(agent)
            await child.start()
            self.children[agent] = child
            if self._stopping:  # `stop` came while it started, and did not see it
                await child.stop()
                break
            WAKES.labels(agent).inc()
            log.info("woke %s (%d waiting)", agent, count)
            watcher = asyncio.create_task(self._watch(agent, child), name=f"watch {agent}")
            self._watchers.add(watcher)
            watcher.add_done_callback(self._watchers.discard)
            woken.append(agent)
        return woken

    async def _watch(self, agent: str, child: Child) -> None:
        status = await child.wait()
        ran_for = time.monotonic() - child.started_at
        try:
            still_waiting = (await self.waiting()).get(agent, 0)
        except (RedisError, OSError):
            still_waiting = 1
        if status == 0 and (still_waiting == 0 or ran_for >= QUICK_EXIT_S):
            self._backoff[agent] = Backoff()
            self._not_before.pop(agent, None)
            log.info("%s exited (idle after %.1fs)", agent, ran_for)
            return
        # A crash, or an exit at once while work still waits (a busy marker outliving its agent):
        # back off rather than start it again on every poll.
        delay = self._backoff[agent].next_delay(ran_for)
        self._not_before[agent] = time.monotonic() + delay
        log.warning("%s exited with status %d after %.1fs with work waiting; waking it again in %.1fs",
                    agent, status, ran_for, delay)

    async def stop(self) -> None:
        """Stop every agent process, and start no more."""
        self._stopping = True
        await asyncio.gather(*(child.stop() for child in self.children.values()))
        for watcher in list(self._watchers):
            watcher.cancel()
