"""The agent loop against real Valkey, as the pool's ACL user: take, hold, acknowledge, hand over, give up."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import NoPermissionError

from rig_agent.assignment import Assignment
from rig_agent.busy import BusyMarker, every
from rig_agent.loop import AgentLoop, LoopTimes
from rig_agent.stream import GROUP, AssignmentStream
from rig_contracts import Names

AGENT = "dev-e-python"


class Presence:
    current_task: str | None = None


class RecordingWorker:
    """Does what a test tells it: wait for a release, fail, or finish at once; records what it was given."""

    def __init__(self, fail: bool = False) -> None:
        self.handled: list[Assignment] = []
        self.given_up: list[tuple[Assignment, str]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()
        self.fail = fail

    async def handle(self, assignment: Assignment) -> None:
        self.handled.append(assignment)
        self.started.set()
        await self.release.wait()
        if self.fail:
            raise RuntimeError("the provider gave up")

    async def give_up(self, assignment: Assignment, reason: str) -> None:
        self.given_up.append((assignment, reason))


def make_loop(client: aioredis.Redis, names: Names, worker: RecordingWorker, consumer: str = "a", *,
              idle_exit_s: float | None = None, reclaim_idle_s: float = 600.0, max_deliveries: int = 3) -> AgentLoop:
    settings = LoopTimes(block_s=0.05, idle_exit_s=idle_exit_s, reclaim_idle_s=reclaim_idle_s,
                         max_deliveries=max_deliveries)
    stream = AssignmentStream(client, names, AGENT, consumer, reclaim_idle_ms=int(settings.reclaim_idle_s * 1000))
    busy = BusyMarker(client, names.busy(AGENT), consumer, ttl_s=0.3)
    return AgentLoop(AGENT, stream, busy, worker, Presence(), settings)


async def assign(redis: aioredis.Redis, names: Names, number: int) -> str:
    """What the router's publish does for one assignment: the entry and its wake entry."""
    entry_id = await redis.xadd(names.assignments(AGENT), {"repo": "acme/app", "issueNumber": str(number)})
    await redis.lpush(names.signal(AGENT), "1")
    return str(entry_id)


@contextlib.asynccontextmanager
async def running(loop: AgentLoop) -> AsyncIterator[asyncio.Task[None]]:
    """The loop in a task for the block, halted afterwards as SIGTERM halts it (an abrupt stop: no ack)."""
    task = asyncio.create_task(loop.run())
    try:
        yield task
    finally:
        async with asyncio.timeout(10):
            await loop.halt()
            await asyncio.wait([task])


async def until(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.02)


async def pending(redis: aioredis.Redis, names: Names) -> int:
    return int((await redis.xpending(names.assignments(AGENT), GROUP))["pending"])


async def test_an_assignment_is_taken_once_with_its_wake_entry_and_acknowledged(redis, agent_redis, names):
    await assign(redis, names, 7)
    worker = RecordingWorker()
    async with running(make_loop(agent_redis, names, worker)):
        await until(lambda: _done(redis, names, worker, 1))
    assert [a.subject for a in worker.handled] == ["acme/app#7"]
    assert await redis.llen(names.signal(AGENT)) == 0


async def _done(redis, names, worker, count: int) -> bool:
    return len(worker.handled) == count and await pending(redis, names) == 0


async def test_busy_marker_lives_while_working_and_lapses_after(redis, agent_redis, names):
    await assign(redis, names, 8)
    worker = RecordingWorker()
    worker.release.clear()
    async with running(make_loop(agent_redis, names, worker)):
        await worker.started.wait()
        await asyncio.sleep(1.0)  # more than three times the marker's 0.3 s TTL: only refreshing keeps it
        assert await redis.llen(names.busy(AGENT)) == 1
        worker.release.set()
        await until(lambda: _done(redis, names, worker, 1))
        await until(lambda: _absent(redis, names.busy(AGENT)))


async def _absent(redis, key: str) -> bool:
    return not await redis.exists(key)


async def test_a_run_longer_than_the_reclaim_time_is_not_taken_over_while_its_agent_lives(redis, agent_redis, names):
    await assign(redis, names, 9)
    first, second = RecordingWorker(), RecordingWorker()
    first.release.clear()
    async with running(make_loop(agent_redis, names, first, "a", reclaim_idle_s=1.5)):
        await first.started.wait()
        # The second agent starts once the first holds the run, so that it cannot simply read the entry first.
        async with running(make_loop(agent_redis, names, second, "b", reclaim_idle_s=1.5)):
            await asyncio.sleep(4.0)  # over two reclaim idle times (the claim is refreshed every third of one)
            assert second.handled == []
            first.release.set()
            await until(lambda: _done(redis, names, first, 1))
    assert second.handled == []


async def test_a_killed_agents_assignment_is_finished_by_the_next_one(redis, agent_redis, names):
    await assign(redis, names, 10)
    first = RecordingWorker()
    first.release.clear()
    async with running(make_loop(agent_redis, names, first, "a", reclaim_idle_s=0.3)):
        await first.started.wait()
    # The first agent is gone without acknowledging: after the idle time another one takes the run over.
    second = RecordingWorker()
    async with running(make_loop(agent_redis, names, second, "b", reclaim_idle_s=0.3)):
        await until(lambda: _done(redis, names, second, 1))
    assert second.handled[0].deliveries == 2
    assert await redis.llen(names.signal(AGENT)) == 0  # the wake entry was taken once, by the first


async def test_a_restarted_agent_takes_back_its_own_assignment_at_once(redis, agent_redis, names):
    await assign(redis, names, 11)
    first = RecordingWorker()
    first.release.clear()
    async with running(make_loop(agent_redis, names, first, "a")):
        await first.started.wait()
    again = RecordingWorker()
    async with running(make_loop(agent_redis, names, again, "a")):  # same name, reclaim time 600 s
        await until(lambda: _done(redis, names, again, 1))


async def test_failing_work_is_retried_then_given_up_and_acknowledged(redis, agent_redis, names):
    await assign(redis, names, 12)
    worker = RecordingWorker(fail=True)
    async with running(make_loop(agent_redis, names, worker, reclaim_idle_s=0.1, max_deliveries=2)):
        await until(lambda: _given_up(redis, names, worker))
    assert [a.deliveries for a in worker.handled] == [1, 2]
    assert "failed 2 times" in worker.given_up[0][1]


async def _given_up(redis, names, worker) -> bool:
    return len(worker.given_up) == 1 and await pending(redis, names) == 0


async def test_an_idle_agent_exits_and_drops_wake_entries_with_no_work_behind_them(redis, agent_redis, names):
    await redis.lpush(names.signal(AGENT), "1", "1")  # left by an agent that died between the two steps
    loop = make_loop(agent_redis, names, RecordingWorker(), idle_exit_s=0.3)
    async with asyncio.timeout(5):
        await loop.run()
    assert await redis.llen(names.signal(AGENT)) == 0


@pytest.mark.parametrize("key", ["rig:events", "assignments:review-e", "signal:dev-e-node"])
async def test_the_agent_user_cannot_touch_other_keys(agent_redis, names, key):
    with pytest.raises(NoPermissionError):
        await agent_redis.rpush(names.prefix + key, "1")


async def test_the_loop_halts_whichever_valkey_command_the_stop_lands_in(redis, agent_redis, names):
    # On Python 3.11 redis-py loses a cancellation that lands just as a command has been sent (its wait_for): at
    # the first points below a bare task.cancel() left the loop running for ever (CI hung to its timeout).
    await agent_redis.ping()  # a connection in the pool: the first command's steps come at the same points each time
    for steps in range(40):
        loop = make_loop(agent_redis, names, RecordingWorker())
        task = asyncio.create_task(loop.run())
        for _ in range(steps):
            await asyncio.sleep(0)
        async with asyncio.timeout(5):
            await loop.halt()
            await asyncio.wait([task])
        assert task.done(), steps


async def test_leaving_a_refreshed_block_ends_whichever_valkey_command_it_lands_in(agent_redis, names):
    # The refresh's cancellation can be lost the same way; leaving the block then waited for ever, with the
    # assignment kept claimed by a loop that no longer worked on it.
    await agent_redis.ping()
    calls = 0

    async def refresh() -> None:
        nonlocal calls
        calls += 1
        await agent_redis.llen(names.busy(AGENT))

    for steps in range(40):
        async with asyncio.timeout(5), every(0, refresh, "probe"):
            for _ in range(steps):
                await asyncio.sleep(0)
    assert calls > 0
