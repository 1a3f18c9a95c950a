"""A small real edge for the tests: `/services/{name}/readyz` and the rebuild protocol `rig replay` speaks.

It checks every request's token with the installation's public key, as the real services do, and records what it
was sent so tests can assert on the protocol.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from rig_identity.tokens import ADMIN, InvalidToken, verify


class RebuildRequest(BaseModel):
    from_seq: int | None


class ReplayRequest(BaseModel):
    service: str
    after: int
    rebuild_id: str


@dataclass
class EdgeState:
    """What the edge knows: which services are ready, and one service's rebuild."""

    public_pem: str
    unready: dict[str, dict[str, str]] = field(default_factory=dict)
    log_length: int = 25
    per_poll: int = 7
    state: str = "live"
    rebuild_id: str | None = None
    to_replay: int = 0
    replayed: int = 0
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)


def create_edge(state: EdgeState) -> FastAPI:
    """The app; `state` is shared with the test."""
    app = FastAPI()

    def authorize(authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401, "a bearer token is required")
        try:
            principal = verify(state.public_pem, authorization.removeprefix("Bearer "))
        except InvalidToken as error:
            raise HTTPException(401, error.reason) from error
        if not principal.has_scope(ADMIN):
            raise HTTPException(403, "admin scope required")
        state.subjects.add(principal.subject)

    @app.get("/services/{name}/readyz")
    async def readyz(name: str, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        failing = state.unready.get(name)
        if failing is not None:
            checks = {"postgres": "ok", **failing}
            return JSONResponse({"status": "unready", "failing": list(failing), "checks": checks}, status_code=503)
        return JSONResponse({"status": "ready", "checks": {"postgres": "ok"}})

    @app.post("/api/admin/{name}/rebuild")
    async def start(name: str, body: RebuildRequest,
                    authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        authorize(authorization)
        state.calls.append(("start", name, body.model_dump()))
        state.state, state.rebuild_id, state.replayed = "rebuilding", uuid.uuid4().hex, 0
        return {"rebuild_id": state.rebuild_id, "state": "rebuilding", "replay_stream": f"rig:replay:{name}"}

    @app.post("/api/replays")
    async def replays(body: ReplayRequest, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        authorize(authorization)
        state.calls.append(("replay", body.service, body.model_dump()))
        if body.rebuild_id != state.rebuild_id:
            raise HTTPException(409, "no such rebuild")
        state.to_replay = max(state.log_length - body.after, 0)
        return {"events": state.to_replay, "last_seq": state.log_length}

    @app.get("/api/admin/{name}/rebuild")
    async def progress(name: str, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        authorize(authorization)
        state.calls.append(("poll", name, None))
        if state.state == "rebuilding":
            state.replayed = min(state.replayed + state.per_poll, state.to_replay)
            if state.replayed == state.to_replay and state.per_poll:
                state.state = "live"
        return {"state": state.state, "rebuild_id": state.rebuild_id, "replayed": state.replayed}

    return app
