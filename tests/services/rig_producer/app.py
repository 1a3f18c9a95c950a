"""The producer service: `POST /produce` writes events (state + outbox in one transaction)."""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from rig_contracts.catalogue import AgentHeartbeatEvent
from rig_db import outbox
from rig_kit import ServiceKit
from rig_kit.app import service_app
from rig_service.settings import CommonSettings


class Produce(BaseModel):
    """How many events to write, over how many subjects."""

    count: int = Field(ge=1, le=100_000)
    subjects: int = Field(default=10, ge=1)
    prefix: str = "o/r"
    batch: int = Field(default=500, ge=1)


def create_app() -> FastAPI:
    """The producer app."""
    kit = ServiceKit("producer", CommonSettings(), migrations=Path(__file__).parent / "migrations")
    router = APIRouter()

    @router.post("/produce")
    async def produce(request: Produce) -> dict[str, list[str]]:
        ids: list[str] = []
        for start in range(0, request.count, request.batch):
            events = [AgentHeartbeatEvent.of(source="agent:producer", key=f"hb:{i}", data={"agent": "producer"},
                                             subject=f"{request.prefix}#{i % request.subjects + 1}")
                      for i in range(start, min(start + request.batch, request.count))]
            async with kit.pool.acquire() as conn, conn.transaction():
                await conn.executemany("INSERT INTO produced (event_id, subject) VALUES ($1, $2)",
                                       [(e.id, e.subject) for e in events])
                await outbox.add(conn, [outbox.OutboxEntry(e, kit.names.events) for e in events])
            ids += [e.id for e in events]
        return {"ids": ids}

    return service_app(kit, router)
