"""Helpers of the sweep tests: ingest served over HTTP for the sandbox process to deliver to, its App settings,
and reading what ingest stored and published."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
import uvicorn
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from rig_contracts import Names
from rig_contracts.entries import EVENT_FIELD
from rig_github import GitHubSettings


def github_settings(sandbox_url: str) -> GitHubSettings:
    """Client settings acting as the sandbox's conductor App (its webhook is the one ingest receives)."""
    apps = {app["role"]: app for app in httpx.get(f"{sandbox_url}/_sandbox/apps").json()}
    conductor = apps["conductor"]
    return GitHubSettings(github_api_url=sandbox_url, github_conductor_app_id=conductor["id"],
                          github_conductor_installation_id=conductor["installation_id"],
                          github_conductor_private_key_file=Path(conductor["key_path"]),
                          github_seconds_between_requests=0, github_seconds_between_writes=0,
                          github_retry_backoff_factor=0.1, github_retry_max_wait=5)


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[None]:
    """Serve `app` (lifespan included) with uvicorn in this event loop on 127.0.0.1:`port`."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, ws="none"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task




async def rows(database_url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """The rows of one query on a fresh connection."""
    conn = await asyncpg.connect(database_url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def metric(base_url: str, name: str, **labels: str) -> float:
    """The value of one sample of a served `/metrics` page (0 when absent)."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def stream_types(redis: aioredis.Redis, key_prefix: str) -> list[str]:
    """The type of every event on this test's `rig:events` stream, in stream order."""
    entries = await redis.xrange(Names(key_prefix).events) or []
    return [json.loads(fields[EVENT_FIELD.encode()])["type"] for _, fields in entries if fields]
