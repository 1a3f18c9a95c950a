"""Fixtures of the router tests: the sandbox (GitHub), the router app against real Postgres and Redis.

Helpers live in workflow_support and router_support, plain modules imported by name; nothing imports this file.
"""

import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).parent))

from router_support import KEYS, github_settings, token

from rig_contracts import Names
from rig_db.pool import schema_name
from rig_github import GitHubClient, GitHubSettings, Role
from rig_router.app import create_app
from rig_router.settings import RouterSettings
from rig_testing.sandbox import sandbox_process


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[str]:
    """A sandbox process (GitHub) shared by a module's tests; each test uses repositories of its own."""
    with sandbox_process(tmp_path_factory.mktemp("sandbox")) as url:
        yield url


@pytest.fixture(scope="module")
def github(sandbox) -> GitHubSettings:
    return github_settings(sandbox)


@pytest.fixture
async def conductor(github) -> AsyncIterator[GitHubClient]:
    async with GitHubClient(github, Role.CONDUCTOR) as client:
        yield client


@pytest.fixture
def settings(database_url, redis_url, key_prefix, schema_suffix, tmp_path) -> RouterSettings:
    return RouterSettings(environment="test", database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                          schema_suffix=schema_suffix, data_dir=str(tmp_path), token_public_key=KEYS[1],
                          router_maintainers=["alice", "bob"], router_comment_retry_s=0.5)


@dataclass
class Running:
    """The router app in this test's event loop, with what a test needs around it."""

    http: httpx.AsyncClient
    names: Names
    schema: str
    redis: aioredis.Redis

    @staticmethod
    def token(subject: str = "cli:test", *scopes: str) -> dict[str, str]:
        return token(subject, *scopes)


@pytest.fixture
async def router(settings, github, redis) -> AsyncIterator[Running]:
    app = create_app(settings, github)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://router") as http:
        assert (await http.get("/readyz")).status_code == 200
        yield Running(http, Names(settings.key_prefix), schema_name("router", settings.schema_suffix), redis)
