"""Health routes against real servers: alive, ready while Postgres and Redis answer, 503 when one does not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from prometheus_client import Counter

from rig_service.health import Check, health_router, postgres_check, redis_check
from rig_testing.servers import PrivateRedis

PROBES = Counter("rig_service_health_test_probes", "Probes counted by the health tests")


def app_with(checks: dict[str, Check], timeout_s: float = 2.0) -> FastAPI:
    app = FastAPI()
    app.include_router(health_router(checks, timeout_s=timeout_s))
    return app


async def get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
        return await client.get(path)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture
async def private_client(private_redis: PrivateRedis) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(private_redis.url, socket_connect_timeout=1)
    yield client
    await client.aclose()


@pytest.fixture
def app(pool: asyncpg.Pool, private_client: aioredis.Redis) -> FastAPI:
    return app_with({"postgres": postgres_check(pool), "redis": redis_check(private_client)})


async def test_healthz_answers_while_the_process_runs() -> None:
    response = await get(app_with({}), "/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_postgres_and_redis_answer(app: FastAPI) -> None:
    response = await get(app, "/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"postgres": "ok", "redis": "ok"}}


async def test_unready_while_redis_is_down_and_ready_again_after(app: FastAPI, private_redis: PrivateRedis) -> None:
    private_redis.stop()

    started = time.monotonic()
    response = await get(app, "/readyz")

    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unready"
    assert body["failing"] == ["redis"]
    assert body["checks"]["postgres"] == "ok"
    assert body["checks"]["redis"].startswith(("ConnectionError", "TimeoutError"))

    private_redis.start()
    assert (await get(app, "/readyz")).status_code == 200


async def test_unready_when_postgres_cannot_be_reached(pool: asyncpg.Pool) -> None:
    await pool.close()

    response = await get(app_with({"postgres": postgres_check(pool)}), "/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["postgres"]
    assert "closed" in response.json()["checks"]["postgres"]


async def test_a_check_that_hangs_fails_after_the_timeout() -> None:
    async def hangs() -> None:
        await asyncio.sleep(60)

    async def passes() -> None:
        return None

    started = time.monotonic()
    response = await get(app_with({"slow": hangs, "fast": passes}, timeout_s=0.2), "/readyz")

    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json() == {"status": "unready", "failing": ["slow"],
                               "checks": {"slow": "TimeoutError: no answer within 0.2 s", "fast": "ok"}}


async def test_a_failing_check_reports_its_error_text() -> None:
    async def broken() -> None:
        raise RuntimeError("migrations not applied: run `rig migrate`")

    response = await get(app_with({"schema": broken}), "/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"schema": "RuntimeError: migrations not applied: run `rig migrate`"}


async def test_metrics_expose_the_default_registry() -> None:
    PROBES.inc()

    response = await get(app_with({}), "/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "rig_service_health_test_probes_total" in response.text
    assert "python_info" in response.text
