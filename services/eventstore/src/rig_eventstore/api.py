"""HTTP: `GET /api/log` pages through the store; `POST /api/replays` feeds a service's rebuild."""


import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from rig_eventstore import store
from rig_eventstore.replay import NotCaughtUpError, replay
from rig_eventstore.settings import EventStoreSettings
from rig_identity import Principal
from rig_kit import ServiceKit
from rig_service.bodies import json_body

MAX_PAGE = 1000


class ReplayRequest(BaseModel):
    """Ask for the log to be replayed into a service's replay stream."""

    service: str = Field(pattern=r"^[a-z][a-z0-9-]{0,40}$", description="Service whose projection is rebuilt.")
    after: int = Field(default=0, ge=0, description="Replay events after this sequence.")
    rebuild_id: str = Field(min_length=1, description="The rebuild this replay belongs to (from the service).")


def api_router(kit: ServiceKit, settings: EventStoreSettings) -> APIRouter:
    """The event store's public routes."""
    router = APIRouter(prefix="/api")
    Reader = Annotated[Principal, Depends(kit.authenticator.require("read"))]  # noqa: N806
    admin = kit.authenticator.require("admin")
    Admin = Annotated[Principal, Depends(admin)]  # noqa: N806
    Replay = Annotated[ReplayRequest, json_body(ReplayRequest, after=admin)]  # noqa: N806

    @router.get("/log")
    async def log_page(_who: Reader, after: Annotated[int, Query(ge=0)] = 0,
                       subject: str | None = None, type: str | None = None,
                       limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> dict[str, Any]:
        async with kit.pool.acquire() as conn:
            rows = await store.page(conn, after, limit, subject or None, type or None)
        return {"events": [{"seq": r["seq"], "event": json.loads(r["body"])} for r in rows],
                "next_after": rows[-1]["seq"] if rows else after}

    @router.post("/replays")
    async def start_replay(_who: Admin, request: Replay) -> dict[str, int]:
        try:
            count, last = await replay(kit, request.service, request.after, request.rebuild_id,
                                       settings.replay_catch_up_s)
        except NotCaughtUpError as error:
            raise HTTPException(503, str(error)) from error
        return {"events": count, "last_seq": last}

    return router
