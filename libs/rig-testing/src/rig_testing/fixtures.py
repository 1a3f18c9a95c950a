"""Pytest fixtures (registered as the `rig` plugin): real servers, one schema suffix and key prefix per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import redis.asyncio as aioredis

from rig_testing import coding_clis as clis
from rig_testing import servers
from rig_testing.fake_anthropic import FakeAnthropic
from rig_testing.fake_anthropic import fake_anthropic as serve_fake_anthropic
from rig_testing.fake_openai import FakeOpenAI
from rig_testing.fake_openai import fake_openai as serve_fake_openai


@pytest.fixture(scope="session")
def database_url() -> str:
    """URL of the PostgreSQL every test of this run uses."""
    return servers.database_url()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis every test of this run uses."""
    return servers.redis_url()


@pytest.fixture
def run_id() -> str:
    """A short id unique to this test."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def key_prefix(run_id: str) -> str:
    """Key prefix of this test: nothing it writes can be seen by another run."""
    return f"test:{run_id}:"


@pytest.fixture
async def schema_suffix(run_id: str, database_url: str) -> AsyncIterator[str]:
    """Schema suffix of this test; its schemas are dropped afterwards."""
    suffix = f"_t{run_id}"
    yield suffix
    conn = await asyncpg.connect(database_url)
    try:
        names = await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE '%' || $1", suffix)
        for row in names:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{row["nspname"]}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def redis(redis_url: str, key_prefix: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the shared Redis; this test's keys are deleted afterwards."""
    client: aioredis.Redis = aioredis.Redis.from_url(redis_url)
    yield client
    async for key in client.scan_iter(match=f"{key_prefix}*", count=1000):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
def private_redis() -> Iterator[servers.PrivateRedis]:
    """A Redis server of this test's own, which it may stop and start (for fault tests)."""
    server = servers.PrivateRedis()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def coding_clis() -> clis.CodingClis:
    """The real Claude Code and Codex CLIs, installed once with npm into a cache folder outside the repository."""
    try:
        return clis.install()
    except clis.NpmMissingError as missing:
        pytest.skip(str(missing))


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A scripted Anthropic Messages API on a loopback port; set `.script` before the run."""
    with serve_fake_anthropic() as fake:
        yield fake


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A scripted OpenAI Responses API on a loopback port; set `.script` before the run."""
    with serve_fake_openai() as fake:
        yield fake
