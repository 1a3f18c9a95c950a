"""Liveness, readiness and Prometheus metrics routes that every service mounts (docs/design.md section 1)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]
"""A readiness check: returns when the dependency answers, raises (anything) when it does not."""

CHECK_TIMEOUT_S = 2.0
"""How long one readiness check may take before it counts as failed."""


def health_router(checks: Mapping[str, Check], *, timeout_s: float = CHECK_TIMEOUT_S) -> APIRouter:
    """Return a router with `GET /healthz`, `GET /readyz` (running `checks`) and `GET /metrics`.

    `/healthz` answers 200 as long as the process serves requests. `/readyz` runs every named check
    at once, each within `timeout_s`: 200 `{"status": "ready", "checks": {name: "ok"}}` when all pass,
    else 503 with `"status": "unready"`, the failing names under `"failing"` and each error's text in
    `"checks"`. `/metrics` is the default Prometheus registry in the text exposition format.
    """
    router = APIRouter(tags=["health"])
    named = dict(checks)

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Every dependency answers", responses={503: {"description": "A check failed"}})
    async def readyz() -> JSONResponse:
        results = await asyncio.gather(*(run_check(check, timeout_s) for check in named.values()))
        outcome = dict(zip(named, results, strict=True))
        failing = [name for name, result in outcome.items() if result != "ok"]
        if failing:
            log.warning("not ready: %s", "; ".join(f"{name}: {outcome[name]}" for name in failing))
            body: dict[str, Any] = {"status": "unready", "failing": failing, "checks": outcome}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready", "checks": outcome})

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


async def run_check(check: Check, timeout_s: float = CHECK_TIMEOUT_S) -> str:
    """Run one check; return "ok", or the error's type and text (a timeout counts as an error)."""
    try:
        await asyncio.wait_for(check(), timeout_s)
    except TimeoutError:
        return f"TimeoutError: no answer within {timeout_s:g} s"
    except Exception as error:
        # Whatever a dependency raises means "not ready"; the text tells the operator which and why.
        return f"{type(error).__name__}: {error}"
    return "ok"


def postgres_check(pool: asyncpg.Pool) -> Check:
    """Return a check that runs `SELECT 1` on a connection of an asyncpg `pool`."""

    async def check() -> None:
        async with pool.acquire() as connection:
            await connection.fetchval("SELECT 1")

    return check


def redis_check(client: aioredis.Redis) -> Check:
    """Return a check that sends `PING` with a `redis.asyncio` client."""

    async def check() -> None:
        if not await client.ping():
            raise ConnectionError("PING was not answered with PONG")

    return check
