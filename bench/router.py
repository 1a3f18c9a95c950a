"""Router bench: ISSUE_APPROVED on `rig:events` → the wake signal pushed with its assignment, and routed items/s.

A real router process against the sandbox (its repository's `.rig-agent.yaml` says `stack: python`; the reading
is reused, RIG_ROUTER_CONFIG_TTL_S, so the figure is the router's own path with the config cached). Latency: one
approval at a time; the start is the approval's stream entry id, the end the assignment entry id that the same
publish script pushes onto `signal:dev-e-python` (both Redis' clock, in milliseconds). Throughput: a burst of
approvals of distinct issues published at once, until every wake signal is there.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from bench.report import Figure, write
from bench.teardown import cleanup
from rig_bus import Outgoing, Publisher
from rig_contracts import Names
from rig_contracts.catalogue import IssueApprovedEvent
from rig_identity import generate_keypair
from rig_service.topology import load
from rig_supervisor.harness import System
from rig_supervisor.local import sandbox_env
from rig_testing import servers
from rig_testing.sandbox import sandbox_process

SEQUENTIAL = 300
BURST = 4000
TARGET_P99_MS = 20.0
TARGET_ITEMS_S = 2000.0
REPO = "bench/routes"


def approval(number: int) -> IssueApprovedEvent:
    subject = f"{REPO}#{number}"
    return IssueApprovedEvent.of(source="ingest", subject=subject, key=f"approved:{subject}:1", data={
        "repo": REPO, "number": number, "title": f"Issue {number}", "labels": ["agent-ready"]})


def entry_ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-")[0])


async def latencies(redis: aioredis.Redis, names: Names, publisher: Publisher, numbers: range) -> list[int]:
    """Approvals one at a time; per approval, its stream entry's ms → its signal's ms (both Redis' clock)."""
    signal = names.signal("dev-e-python")
    found: list[int] = []
    for n in numbers:
        expected = int(await redis.llen(signal)) + 1
        [entry] = await publisher.publish([Outgoing.of(approval(n), names.events)])
        assert entry is not None
        deadline = time.monotonic() + 30
        while int(await redis.llen(signal)) < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no signal for approval {n}")
            await asyncio.sleep(0.0005)
        pushed = await redis.lindex(signal, 0)
        assert pushed is not None
        found.append(entry_ms(pushed) - entry_ms(entry))
    return found


async def burst(redis: aioredis.Redis, names: Names, publisher: Publisher, count: int, first: int) -> float:
    """Publish `count` approvals at once; items per second until every signal is pushed."""
    signal = names.signal("dev-e-python")
    before = int(await redis.llen(signal))
    events = [approval(n) for n in range(first, first + count)]
    started = time.monotonic()
    for start in range(0, count, 500):
        await publisher.publish([Outgoing.of(e, names.events) for e in events[start:start + 500]])
    while int(await redis.llen(signal)) < before + count:
        if time.monotonic() - started > 300:
            raise RuntimeError("the burst was not routed within 5 minutes")
        await asyncio.sleep(0.01)
    return count / (time.monotonic() - started)


async def main() -> None:
    database_url, redis_url = servers.database_url(), servers.redis_url()
    run = uuid.uuid4().hex[:8]
    names, suffix = Names(f"bench:{run}:"), f"_b{run}"
    folder = Path(tempfile.mkdtemp(prefix="rig-router-bench-"))
    env = {**os.environ, "RIG_DATABASE_URL": database_url, "RIG_REDIS_URL": redis_url,
           "RIG_KEY_PREFIX": names.prefix, "RIG_SCHEMA_SUFFIX": suffix, "RIG_DATA_DIR": str(folder),
           "RIG_TOKEN_PUBLIC_KEY": generate_keypair()[1], "RIG_LOG_LEVEL": "WARNING",
           "RIG_ROUTER_CONFIG_TTL_S": "600"}
    env.pop("RIG_FAULT_POINT", None)
    system = System([load(None).spec("router")], env=env, redis_url=redis_url, names=names)
    redis = aioredis.Redis.from_url(redis_url)
    publisher = Publisher(redis, names)
    with sandbox_process(folder / "sandbox") as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as control:
            apps = (await control.get("/_sandbox/apps")).json()
            system.plan.env.update(sandbox_env(url, apps))
            await control.post("/_sandbox/repos", json={"owner": "bench", "name": "routes",
                                                        "files": {".rig-agent.yaml": "stack: python\n"}})
        async with system:
            await latencies(redis, names, publisher, range(1, 2))  # warm-up: config read and cached, connections
            found = await latencies(redis, names, publisher, range(2, SEQUENTIAL + 2))
            rate = await burst(redis, names, publisher, BURST, SEQUENTIAL + 2)
    await cleanup(database_url, suffix, redis, names)
    cuts = statistics.quantiles(found, n=100)
    write("router", [
        Figure("router: ISSUE_APPROVED → signal pushed, p50", cuts[49], "ms"),
        Figure("router: ISSUE_APPROVED → signal pushed, p99", cuts[98], "ms", TARGET_P99_MS, lower_is_better=True,
               profile={"path": "consumer read (block/poll), batch transaction (inbox, item, assignment rows, "
                                "outbox, NOTIFY), relay wake-up, one publish script (XADD + LPUSH)"}),
        Figure("router: approvals routed per second (burst)", rate, "items/s", TARGET_ITEMS_S,
               profile={"burst": BURST, "batch_size": 500}),
    ], {"sequential": SEQUENTIAL, "burst": BURST, "config": "cached (RIG_ROUTER_CONFIG_TTL_S=600)"})


if __name__ == "__main__":
    asyncio.run(main())
