"""Fixtures of the merger tests: the sandbox process, the people around a PR, and the real merger app (its kit
against real Postgres and Redis) with an HTTP client. Helpers live in merger_support; nothing imports this."""

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from merger_support import World, world

from rig_identity import generate_keypair, mint
from rig_merger.app import create_app
from rig_merger.settings import MergerSettings
from rig_testing.sandbox import sandbox_process

KEYS = generate_keypair()


@pytest.fixture
def sandbox_url(tmp_path) -> Iterator[str]:
    with sandbox_process(tmp_path / "sandbox") as url:
        yield url


@pytest.fixture
async def people(sandbox_url) -> AsyncIterator[World]:
    async with world(sandbox_url) as found:
        await found.create_repo()
        yield found


@pytest.fixture
def settings(database_url, redis_url, key_prefix, schema_suffix, tmp_path) -> MergerSettings:
    return MergerSettings(environment="test", database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                          schema_suffix=schema_suffix, data_dir=str(tmp_path), token_public_key=KEYS[1],
                          merger_unknown_first_s=0.2, merger_retry_first_s=0.2)


@pytest.fixture
async def merger(settings, people, redis) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, people.github)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://merger") as http:
        assert (await http.get("/readyz")).status_code == 200
        yield http


@pytest.fixture
def requester() -> dict[str, str]:
    """Headers of review-e asking for merges."""
    return {"Authorization": f"Bearer {mint(KEYS[0], 'agent:review-e', ['merge:request', 'read'])}"}
