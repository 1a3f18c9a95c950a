"""Fixtures of the ingest tests: the real app (kit against real Postgres and Redis) and a client of it.

Helpers live in ingest_support, a plain module imported by name; nothing imports this file.
"""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))

from ingest_support import OLD_SECRET, SECRET

from rig_db.pool import schema_name
from rig_identity import generate_keypair
from rig_ingest.app import create_app
from rig_ingest.settings import IngestSettings


@pytest.fixture
def settings(database_url, redis_url, key_prefix, schema_suffix, tmp_path) -> IngestSettings:
    return IngestSettings(
        environment="test", database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
        schema_suffix=schema_suffix, data_dir=str(tmp_path), token_public_key=generate_keypair()[1],
        ingest_webhook_secrets=[SecretStr(SECRET), SecretStr(OLD_SECRET)])


@pytest.fixture
def schema(settings) -> str:
    return schema_name("ingest", settings.schema_suffix)


@pytest.fixture
async def client(settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("10.9.0.5", 5000)), base_url="http://ingest") as http:
        # From reports_support.RUNTIME_HOST, in the network the runtime tests trust.
        # Ready before use: a kit stopped while its relay is still starting can hang at shutdown.
        assert (await http.get("/readyz")).status_code == 200
        yield http
