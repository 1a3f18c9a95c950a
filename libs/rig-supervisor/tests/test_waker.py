"""The agent waker, against real Valkey and real child processes: once stopped, it starts no agent."""

import asyncio

from rig_contracts import Names
from rig_service.waiting import stop_task
from rig_supervisor.process import Child
from rig_supervisor.waker import AgentWaker

AGENT = "dev-e-node"


async def test_a_waker_stopped_at_any_point_of_its_poll_starts_no_agent_afterwards(redis, key_prefix):
    # Its poll is a Valkey pipeline, where a cancellation can be lost on Python 3.11 (rig_service.waiting): a
    # waker that ran on after `stop` woke an agent nobody would stop, left running after the supervisor ended.
    names = Names(key_prefix)
    await redis.lpush(names.signal(AGENT), "work")
    started: list[Child] = []

    def make_child(agent: str) -> Child:
        child = Child(agent, ["sleep", "60"], {}, echo=False)
        started.append(child)
        return child

    await redis.ping()
    try:
        for steps in range(30):
            waker = AgentWaker(redis, names, [AGENT], make_child, poll_s=0)
            task = asyncio.create_task(waker.run())
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()  # what Supervisor.stop does first
            async with asyncio.timeout(20):
                await waker.stop()
                await stop_task(task, again_after_s=1.0)
                await asyncio.sleep(0.05)  # a poll that ran on would have started its agent by now
            assert [c for c in started if c.running] == [], steps
    finally:
        for child in started:
            await child.stop(grace_s=1.0)
