"""A stand-in agent for the waking tests: notes when it started, takes its wake entries, exits when idle."""

import argparse
import asyncio
import os
import time
from pathlib import Path

import redis.asyncio as aioredis
from rig_contracts import Names


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    started = time.time()
    names = Names(os.environ.get("RIG_KEY_PREFIX", ""))
    client = aioredis.Redis.from_url(os.environ["RIG_REDIS_URL"])
    with Path(os.environ["RIG_TEST_WAKE_LOG"]).open("a") as log:  # noqa: ASYNC230 - one line, before any work
        log.write(f"{args.agent} {started}\n")
    while await client.lpop(names.signal(args.agent)) is not None:
        await asyncio.sleep(float(os.environ.get("RIG_TEST_WORK_S", "0.05")))
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
