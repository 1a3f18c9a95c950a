"""The tally service: `GET /tally` shows the projection; events of a refused subject fail (for dead letters)."""

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import APIRouter, FastAPI

from rig_bus.consumer import ConsumerOptions
from rig_contracts import Event
from rig_kit import Projection, ServiceKit
from rig_kit.app import service_app
from rig_service.settings import CommonSettings


async def apply(conn: asyncpg.Connection, events: Sequence[Event]) -> None:
    """Count events per subject (in order), log each application, refuse what the `refused` table names."""
    delay_ms = int(os.environ.get("RIG_TALLY_DELAY_MS", "0"))
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    refused = {r["subject"] for r in await conn.fetch("SELECT subject FROM refused")}
    for event in events:
        if event.subject in refused:
            raise ValueError(f"tally refuses {event.subject}")
    await conn.executemany(
        "INSERT INTO tally (subject, count, last_event) VALUES ($1, 1, $2) ON CONFLICT (subject) "
        "DO UPDATE SET count = tally.count + 1, last_event = excluded.last_event",
        [(e.subject, e.id) for e in events])
    await conn.executemany("INSERT INTO applied (event_id) VALUES ($1)", [(e.id,) for e in events])


async def reset(conn: asyncpg.Connection) -> None:
    """Empty the projection for a rebuild."""
    await conn.execute("TRUNCATE tally, applied")


def create_app() -> FastAPI:
    """The tally app."""
    options = ConsumerOptions(batch_size=200, block_ms=100, min_idle_ms=1000, max_deliveries=3, reclaim_every_s=0.3)
    kit = ServiceKit("tally", CommonSettings(), migrations=Path(__file__).parent / "migrations",
                     projection=Projection(apply, reset), options=options)
    router = APIRouter()

    @router.get("/tally")
    async def tally() -> dict[str, Any]:
        async with kit.pool.acquire() as conn:
            rows = await conn.fetch("SELECT subject, count, last_event::text FROM tally ORDER BY subject")
            applied = await conn.fetch("SELECT event_id::text FROM applied")
        return {"tally": {r["subject"]: [r["count"], r["last_event"]] for r in rows},
                "applied": [r["event_id"] for r in applied]}

    return service_app(kit, router)
