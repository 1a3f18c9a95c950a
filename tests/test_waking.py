"""The supervisor wakes agent processes the way KEDA does: work in `signal:{agent}` or `busy:{agent}` starts one."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from system_support import build, eventually

STANDIN = Path(__file__).parent / "programs" / "standin_agent.py"


def wakes(log: Path) -> list[tuple[str, float]]:
    if not log.exists():
        return []
    return [(line.split()[0], float(line.split()[1])) for line in log.read_text().splitlines()]


async def test_work_in_the_wake_list_starts_an_agent_which_exits_when_idle(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    log = tmp_path / "wakes.log"
    system = build([], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                   schema_suffix=schema_suffix, folder=tmp_path, agents=["dev-e-node", "review-e"],
                   agent_command=[sys.executable, str(STANDIN), "--agent", "{agent}", "--port", "{port}"],
                   extra_env={"RIG_TEST_WAKE_LOG": str(log)})
    async with system:
        await asyncio.sleep(0.5)
        assert wakes(log) == [], "nothing runs while the lists are empty"
        pushed = time.time()
        await redis.lpush(f"{key_prefix}signal:dev-e-node", "entry-1", "entry-2")

        async def woken() -> bool:
            return len(wakes(log)) == 1
        await eventually(woken, within_s=30, what="dev-e-node to be woken")
        agent, started = wakes(log)[0]
        assert agent == "dev-e-node"
        assert started - pushed < 1.0, "started within a second of the LPUSH"

        async def drained_and_gone() -> bool:
            waker = system.supervisor.waker
            return (await redis.llen(f"{key_prefix}signal:dev-e-node") == 0 and waker is not None
                    and not waker.children["dev-e-node"].running)
        await eventually(drained_and_gone, within_s=30, what="the agent to take its work and exit")
        await asyncio.sleep(0.5)
        assert len(wakes(log)) == 1, "an idle agent is not started again"

        await redis.rpush(f"{key_prefix}busy:review-e", "holding")
        await redis.expire(f"{key_prefix}busy:review-e", 5)

        async def busy_wakes() -> bool:  # while busy: lives, an agent that exits is woken again: once or more
            woken_agents = [a for a, _ in wakes(log)]
            return woken_agents[:1] == ["dev-e-node"] and set(woken_agents[1:]) == {"review-e"}
        await eventually(busy_wakes, within_s=30, what="a busy marker to wake review-e")
