"""Admin routes every service with a projection has: begin a rebuild, see how it goes."""


from typing import Annotated

import uuid_utils
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from rig_identity import Principal
from rig_kit.kit import ServiceKit
from rig_kit.rebuild import Rebuilder


class RebuildRequest(BaseModel):
    """Begin a rebuild: from the start (the projection is emptied) or after a sequence of the event store."""

    from_seq: int | None = Field(default=None, ge=0, description="Replay after this sequence without emptying.")


def admin_router(kit: ServiceKit) -> APIRouter:
    """`POST /admin/rebuild` and `GET /admin/rebuild` (scope admin)."""
    router = APIRouter(prefix="/admin", tags=["admin"])
    Admin = Annotated[Principal, Depends(kit.authenticator.require("admin"))]  # noqa: N806

    def rebuilder() -> Rebuilder:
        if kit.rebuilder is None:
            raise HTTPException(404, f"{kit.name} has no projection to rebuild")
        return kit.rebuilder

    @router.post("/rebuild")
    async def begin(request: RebuildRequest, _who: Admin) -> dict[str, object]:
        rebuild = rebuilder()
        await rebuild.begin(str(uuid_utils.uuid7()), request.from_seq)
        return {**rebuild.describe(), "replay_stream": kit.names.replay(kit.name)}

    @router.get("/rebuild")
    async def status(_who: Admin) -> dict[str, object]:
        return rebuilder().describe()

    return router
