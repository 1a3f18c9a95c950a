"""Fixtures of the agent runtime's tests: the pool's own ACL user on the real Redis, and a loop factory."""

import secrets
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis.asyncio as aioredis

from rig_contracts import Names
from rig_identity.acl import ensure_agent_user

AGENT = "dev-e-python"


@pytest.fixture
def names(key_prefix: str) -> Names:
    return Names(key_prefix)


@pytest.fixture
async def agent_redis(redis: aioredis.Redis, redis_url: str, names: Names) -> AsyncIterator[aioredis.Redis]:
    """A client logged in as the pool's own ACL user, which may touch only the pool's keys."""
    password = secrets.token_hex(16)
    user = await ensure_agent_user(redis, names, AGENT, password)
    parts = urlsplit(redis_url)
    netloc = f"{quote(user)}:{password}@{parts.hostname}:{parts.port or 6379}"
    client: aioredis.Redis = aioredis.Redis.from_url(urlunsplit(parts._replace(netloc=netloc)))
    yield client
    await client.aclose()
    await redis.acl_deluser(user)
