"""Fixtures of the costs tests: the real costs app (its kit against real Postgres and Redis) with an HTTP client.
Helpers live in costs_support; nothing imports this."""

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from rig_costs.app import create_app
from rig_costs.settings import CostsSettings
from rig_identity import generate_keypair, mint

KEYS = generate_keypair()


@pytest.fixture
def settings(database_url, redis_url, key_prefix, schema_suffix, tmp_path) -> CostsSettings:
    return CostsSettings(environment="test", database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                         schema_suffix=schema_suffix, data_dir=str(tmp_path), token_public_key=KEYS[1])


@pytest.fixture
async def costs(settings, redis) -> AsyncIterator[httpx.AsyncClient]:
    """The costs app, started, with a client that reads (a token with `read` scope)."""
    app = create_app(settings)
    reader = {"Authorization": f"Bearer {mint(KEYS[0], 'cli:test', ['read'])}"}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://costs", headers=reader) as http:
        assert (await http.get("/readyz")).status_code == 200
        yield http


@pytest.fixture
def admin() -> dict[str, str]:
    """Headers of an operator (scope admin: rebuilds)."""
    return {"Authorization": f"Bearer {mint(KEYS[0], 'cli:operator', ['admin'])}"}


@pytest.fixture
def agent_headers() -> Callable[[str], dict[str, str]]:
    """Headers of an agent pool's token (it reports runs and reserves them)."""
    return lambda agent: {"Authorization": f"Bearer {mint(KEYS[0], f'agent:{agent}', ['runs:write', 'events:write'])}"}
