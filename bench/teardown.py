"""What a bench leaves on the servers, removed: its schemas and its keys."""

from __future__ import annotations

import contextlib

import asyncpg
import redis.asyncio as aioredis

from rig_contracts import Names


async def cleanup(database_url: str, suffix: str, redis: aioredis.Redis, names: Names) -> None:
    """Drop the bench's schemas (those ending in `suffix`) and keys (under its prefix), then close `redis`."""
    conn = await asyncpg.connect(database_url)
    try:
        for row in await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE '%' || $1", suffix):
            await conn.execute(f'DROP SCHEMA IF EXISTS "{row["nspname"]}" CASCADE')
    finally:
        await conn.close()
    with contextlib.suppress(Exception):
        async for key in redis.scan_iter(match=f"{names.prefix}*", count=1000):
            await redis.delete(key)
    await redis.aclose()
