"""Admin routes every service with a projection has: begin a rebuild, see how it goes.

They live at `/api/admin/{service}/…`, a public path of the route table (topology.toml), so `rig replay` reaches
them through the edge with its admin token; the edge serves nothing of a service under /services/ but its health.
"""


from typing import Annotated

import uuid_utils
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from rig_identity import Principal
from rig_kit.kit import ServiceKit
from rig_kit.rebuild import Rebuilder
from rig_service.bodies import json_body


class RebuildRequest(BaseModel):
    """Begin a rebuild: from the start (the projection is emptied) or after a sequence of the event store."""

    from_seq: int | None = Field(default=None, ge=0, description="Replay after this sequence without emptying.")


def admin_prefix(service: str) -> str:
    """Where a service's admin routes live (each service lists it among its paths in topology.toml)."""
    return f"/api/admin/{service}"


def admin_router(kit: ServiceKit) -> APIRouter:
    """`POST /api/admin/{service}/rebuild` and `GET …/rebuild` (scope admin)."""
    router = APIRouter(prefix=admin_prefix(kit.name), tags=["admin"])
    admin = kit.authenticator.require("admin")
    Admin = Annotated[Principal, Depends(admin)]  # noqa: N806
    Rebuild = Annotated[RebuildRequest, json_body(RebuildRequest, after=admin)]  # noqa: N806

    def rebuilder() -> Rebuilder:
        if kit.rebuilder is None:
            raise HTTPException(404, f"{kit.name} has no projection to rebuild")
        return kit.rebuilder

    @router.post("/rebuild")
    async def begin(_who: Admin, request: Rebuild) -> dict[str, object]:
        rebuild = rebuilder()
        await rebuild.begin(str(uuid_utils.uuid7()), request.from_seq)
        return {**rebuild.describe(), "replay_stream": kit.names.replay(kit.name)}

    @router.get("/rebuild")
    async def status(_who: Admin) -> dict[str, object]:
        return rebuilder().describe()

    return router
