"""HTTP: `POST /api/merge` records a merge request (202 at once); `GET /api/merge/{owner}/{repo}/{pr}` shows it."""


from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from rig_contracts.payloads import Repo
from rig_db import outbox
from rig_identity import Principal
from rig_kit import ServiceKit
from rig_merger import awaiting
from rig_merger import projection as db
from rig_service.bodies import json_body

AFTER_RECORD = "merger.after_record"
"""Fault point: the request and its MERGE_REQUESTED are committed, the caller has no answer yet."""

SHA = r"^[0-9a-f]{40}$"


class MergeAsk(BaseModel):
    """A merge request: ours (`repo`, `pr_number`, `head_sha`) or the public runtime's (`repo`, `prNumber`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repo: Repo = Field(description="owner/name")
    pr_number: int = Field(ge=1, validation_alias=AliasChoices("pr_number", "prNumber"),
                           description="Pull request number (`prNumber` in the public runtime's form).")
    head_sha: str | None = Field(default=None, pattern=SHA, validation_alias=AliasChoices("head_sha", "headSha"),
                                 description="The approved head SHA; omitted: the recorded approval's SHA.")


def describe(request: db.Request, pull: db.Pull | None) -> dict[str, Any]:
    """A request as the API shows it: its state, and why it waits or was blocked."""
    return {"repo": request.repo, "pr_number": request.pr_number, "head_sha": request.head_sha,
            "subject": request.subject, "requested_by": request.requested_by, "state": request.state,
            "reason": request.reason, "detail": request.detail, "merge_sha": request.merge_sha,
            "approved_sha": pull.approved_sha if pull else None, "head_seen": pull.head_sha if pull else None}


def approved_head(ask: MergeAsk, pull: db.Pull | None) -> str:
    """The SHA to merge: the one asked for, else the recorded approval's, refused when there is none or it is stale."""
    if ask.head_sha is not None:
        return ask.head_sha
    ref = f"{ask.repo}#{ask.pr_number}"
    if pull is None or pull.approved_sha is None:
        raise HTTPException(422, f"no approval recorded for {ref}: a merge without `head_sha` needs a REVIEW_PASSED "
                                 "(an approving review) first; send `head_sha` or wait for the review")
    if pull.head_sha is not None and pull.head_sha != pull.approved_sha:
        raise HTTPException(409, f"the head of {ref} moved since the approval (approved {pull.approved_sha}, head "
                                 f"is {pull.head_sha}): the new head must be reviewed first")
    return pull.approved_sha


def api_router(kit: ServiceKit, await_approval_s: float = 3600.0) -> APIRouter:
    """The merger's public routes; a request before its approval waits `await_approval_s` for it."""
    wait = timedelta(seconds=await_approval_s)
    router = APIRouter(prefix="/api/merge")
    # Also the public agent runtime's call (docs/design.md section 9): token-less from a trusted network.
    requester = kit.authenticator.require_runtime("merge:request")
    Requester = Annotated[Principal, Depends(requester)]  # noqa: N806
    Ask = Annotated[MergeAsk, json_body(MergeAsk, after=requester)]  # noqa: N806
    Reader = Annotated[Principal, Depends(kit.authenticator.require("read"))]  # noqa: N806

    @router.post("", status_code=202)
    async def request_merge(who: Requester, ask: Ask) -> JSONResponse:
        """Record the request and its MERGE_REQUESTED in one transaction; asking again changes nothing."""
        async with kit.pool.acquire() as conn, conn.transaction():
            pull = await db.pull(conn, ask.repo, ask.pr_number)
            if pull is not None and pull.closed and pull.merge_sha is None:
                raise HTTPException(409, f"{ask.repo}#{ask.pr_number} is closed without merging")
            if ask.head_sha is None and (pull is None or pull.approved_sha is None):
                # Asked before the approval was projected: wait for it (the public runtime never asks again).
                waiting = await awaiting.record(conn, ask.repo, ask.pr_number, who.subject, wait)
                return JSONResponse({**waiting.describe(), "new": True}, status_code=202)
            sha = approved_head(ask, pull)
            subject = pull.subject if pull and pull.subject else f"{ask.repo}#{ask.pr_number}"
            event = awaiting.merge_requested(ask.repo, ask.pr_number, sha, subject, who.subject)
            request, new = await db.record_request(conn, ask.repo, ask.pr_number, sha, subject, who.subject,
                                                   event.id)
            if new:
                await outbox.add(conn, [outbox.OutboxEntry(event, kit.names.events)])
                await db.wake(conn)
        kit.faults.reach(AFTER_RECORD)
        return JSONResponse({**describe(request, pull), "new": new}, status_code=202)

    @router.get("/{owner}/{name}/{pr_number}")
    async def show(owner: str, name: str, pr_number: int, _who: Reader) -> dict[str, Any]:
        """The PR's latest merge request: its state and why it waits."""
        async with kit.pool.acquire() as conn:
            request = await db.latest_request(conn, f"{owner}/{name}", pr_number)
            pull = await db.pull(conn, f"{owner}/{name}", pr_number)
            waiting = await awaiting.find(conn, f"{owner}/{name}", pr_number)
        if request is None and waiting is not None:
            return waiting.describe()
        if request is None:
            raise HTTPException(404, f"no merge request for {owner}/{name}#{pr_number}")
        return describe(request, pull)

    return router
