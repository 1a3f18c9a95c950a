"""Control endpoints of faults and of the request journal (`/_sandbox/faults`, `/_sandbox/requests`).

`POST /_sandbox/faults` arms a fault (see `rig_sandbox.faults` for the kinds); `GET` lists the armed faults
with what each did (`fired`, `remaining`, `firings`); `DELETE` disarms them all, `DELETE …/{id}` one.
`GET /_sandbox/requests` lists the latest GitHub requests (`?method=&path=&since=&limit=`), `DELETE` forgets them.
"""

# No `from __future__ import annotations`: FastAPI must see the route signatures' types.

from typing import Any

from fastapi import APIRouter, Response

from rig_sandbox.errors import not_found
from rig_sandbox.faults import Faults, FaultSpec
from rig_sandbox.journal import RequestJournal

ENDPOINTS = {
    "POST /_sandbox/faults": "{kind: server_error | secondary_rate_limit | primary_rate_limit | delay | forbidden, "
                             "path, method?, app?, times?, status?, after_handling?, retry_after_s?, reset_in_s?, "
                             "delay_s?}: GitHub misbehaves on the next `times` matching requests",
    "GET /_sandbox/faults": "the armed faults and what each did (fired, remaining, firings)",
    "DELETE /_sandbox/faults": "disarm every fault (DELETE /_sandbox/faults/{id}: one)",
    "GET /_sandbox/requests": "the latest GitHub requests: when, who, status, fault (?method=&path=&since=&limit=)",
}


def faults_router(faults: Faults, journal: RequestJournal) -> APIRouter:
    """The routes that arm, list and disarm faults and show the request journal."""
    router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])

    @router.post("/faults", status_code=201)
    async def arm(body: FaultSpec) -> dict[str, Any]:
        """Arm a fault for the next `times` requests matching `method`, `path` (and `app`)."""
        return faults.arm(body).json()

    @router.get("/faults")
    async def armed() -> list[dict[str, Any]]:
        """Every fault armed since the last clear, oldest first, spent ones included."""
        return [fault.json() for fault in faults.all()]

    @router.get("/faults/{fault_id}")
    async def one(fault_id: int) -> dict[str, Any]:
        """One fault and what it did."""
        fault = faults.get(fault_id)
        if fault is None:
            raise not_found()
        return fault.json()

    @router.delete("/faults", status_code=204)
    async def clear() -> Response:
        """Disarm and forget every fault."""
        faults.clear()
        return Response(status_code=204)

    @router.delete("/faults/{fault_id}", status_code=204)
    async def remove(fault_id: int) -> Response:
        """Disarm and forget one fault."""
        if not faults.remove(fault_id):
            raise not_found()
        return Response(status_code=204)

    @router.get("/requests")
    async def requests(method: str | None = None, path: str | None = None, since: float | None = None,
                       limit: int = 1000) -> list[dict[str, Any]]:
        """The latest answered GitHub requests, oldest first, filtered by method, path pattern and start time."""
        return [entry.json() for entry in journal.entries(method=method, path=path, since=since, limit=limit)]

    @router.delete("/requests", status_code=204)
    async def forget() -> Response:
        """Forget the journal."""
        journal.clear()
        return Response(status_code=204)

    return router
