"""A stand-in agent for the waking tests: notes when it started, takes its wake entries, exits when idle."""

import os
import sys
import time

# Noted before anything heavy is imported: the moment the command is running.
STARTED = time.time()
with open(os.environ["RIG_TEST_WAKE_LOG"], "a") as wake_log:
    wake_log.write(f"{sys.argv[sys.argv.index('--agent') + 1]} {STARTED}\n")

import asyncio  # noqa: E402

import redis.asyncio as aioredis  # noqa: E402

from rig_contracts import Names  # noqa: E402


async def main() -> None:
    agent = sys.argv[sys.argv.index("--agent") + 1]
    names = Names(os.environ.get("RIG_KEY_PREFIX", ""))
    client = aioredis.Redis.from_url(os.environ["RIG_REDIS_URL"])
    while await client.lpop(names.signal(agent)) is not None:
        await asyncio.sleep(float(os.environ.get("RIG_TEST_WORK_S", "0.05")))
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
