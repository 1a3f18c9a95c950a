"""The embedded default: real PostgreSQL and Redis under a folder of ours when no URL is given."""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from rig_embedded.servers import resolve


async def test_missing_urls_start_real_embedded_servers(tmp_path):
    urls = resolve(None, None, tmp_path)
    assert urls.embedded == ("postgres", "redis")
    conn = await asyncpg.connect(urls.database_url)
    try:
        assert await conn.fetchval("SELECT current_setting('server_version_num')::int") >= 150000
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(urls.redis_url)
    await client.xadd("s", {"a": "1"})
    await client.xgroup_create("s", "g", id="0")
    assert (await client.xautoclaim("s", "g", "c", min_idle_time=0))[1] == []
    await client.aclose()

    again = resolve(None, None, tmp_path)
    assert again.redis_url == urls.redis_url, "a second resolve joins the running servers"


def test_given_urls_are_used_as_they_are(tmp_path):
    urls = resolve("postgresql://db.example/rig", "redis://cache.example:6379/0", tmp_path)
    assert urls == type(urls)("postgresql://db.example/rig", "redis://cache.example:6379/0", ())
    assert not any(tmp_path.iterdir()), "nothing was started"
