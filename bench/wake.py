"""Wake bench: time from `LPUSH signal:{agent}` to the woken agent command running (p50/p99 over 100 wakes)."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis.asyncio as aioredis

from bench.report import Figure, write
from rig_contracts import Names
from rig_supervisor.harness import System
from rig_testing import servers

WAKES = 100
TARGET_P99_S = 1.0
STANDIN = Path(__file__).resolve().parents[1] / "tests" / "programs" / "standin_agent.py"


def started_times(log: Path) -> list[float]:
    return [float(line.split()[1]) for line in log.read_text().splitlines()] if log.exists() else []


async def main() -> None:
    redis_url = servers.redis_url()
    names = Names(f"bench:{uuid.uuid4().hex[:8]}:")
    folder = Path(tempfile.mkdtemp(prefix="rig-wake-"))
    log = folder / "wakes.log"
    env = {**os.environ, "RIG_REDIS_URL": redis_url, "RIG_KEY_PREFIX": names.prefix, "RIG_TEST_WAKE_LOG": str(log),
           "RIG_TEST_WORK_S": "0"}
    system = System([], env=env, redis_url=redis_url, names=names, agents=["dev-e-node"],
                    agent_command=[sys.executable, str(STANDIN), "--agent", "{agent}", "--port", "{port}"])
    client = aioredis.Redis.from_url(redis_url)
    latencies: list[float] = []
    async with system:
        waker = system.supervisor.waker
        assert waker is not None
        for i in range(WAKES):
            pushed = time.time()
            await client.lpush(names.signal("dev-e-node"), f"entry-{i}")
            while len(started_times(log)) <= i:
                await asyncio.sleep(0.002)
            latencies.append(started_times(log)[i] - pushed)
            while waker.children["dev-e-node"].running:
                await asyncio.sleep(0.005)
    await client.aclose()
    quantiles = statistics.quantiles(latencies, n=100)
    write("wake", [
        Figure("wake: LPUSH → agent command running, p50", quantiles[49] * 1000, "ms"),
        Figure("wake: LPUSH → agent command running, p99", quantiles[98] * 1000, "ms", TARGET_P99_S * 1000,
               lower_is_better=True,
               profile={"poll_interval_ms": 50, "includes": "poll delay + fork/exec + Python start of the agent"}),
    ], {"wakes": WAKES})


if __name__ == "__main__":
    asyncio.run(main())
