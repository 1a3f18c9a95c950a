"""The router's HTTP routes: work items, the queue, pull-mode assignments, repo learnings (docs/design.md 1, 9)."""

# No `from __future__ import annotations`: FastAPI reads the dependency aliases' annotations at runtime.

import re
import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response
from pydantic import BaseModel, Field

from rig_contracts.names import AGENTS
from rig_identity import Principal
from rig_kit import ServiceKit
from rig_router import assignments, projection, runtime_pull
from rig_router.emit import PULL_AGENTS
from rig_router.settings import RouterSettings
from rig_service.bodies import json_body

NAME = r"^[A-Za-z0-9_.-]{1,100}$"
REPO = r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$"
OUR_LEARNINGS = "application/vnd.rig.learnings+json"
"""Media type of our own learnings shape `{repo, learnings}`; without it the runtime's bare array is answered."""


class Learning(BaseModel):
    """Something an agent learned about a repository (`POST /api/repo-learnings`)."""

    repo: str = Field(pattern=REPO, description="owner/name")
    key: str = Field(min_length=1, max_length=200, description="What the learning is about, e.g. `test-command`.")
    value: str = Field(max_length=20_000, description="What was learned.")
    agentId: str = Field(min_length=1, max_length=100, description="Agent that learned it.")  # noqa: N815


def _agent_subject(agent: str) -> str:
    return f"agent:{agent}"


def api_router(kit: ServiceKit, settings: RouterSettings) -> APIRouter:
    """The router's public routes."""
    router = APIRouter(prefix="/api")
    Reader = Annotated[Principal, Depends(kit.authenticator.require("read"))]  # noqa: N806
    # The public agent runtime's calls (docs/design.md section 9): token-less from a trusted network too.
    Puller = Annotated[Principal, Depends(kit.authenticator.require_runtime("assignments:pull"))]  # noqa: N806
    writer = kit.authenticator.require_runtime("events:write")
    Writer = Annotated[Principal, Depends(writer)]  # noqa: N806
    LearningBody = Annotated[Learning, json_body(Learning, after=writer)]  # noqa: N806
    Learner = Annotated[Principal, Depends(kit.authenticator.require_runtime("read"))]  # noqa: N806
    lease = timedelta(seconds=settings.router_lease_s)

    @router.get("/work-items/{owner}/{repo}/{number}")
    async def work_item(owner: str, repo: str, number: int, _who: Reader) -> dict[str, Any]:
        if number < 1 or not all(_valid(part) for part in (owner, repo)):
            raise HTTPException(422, "use /api/work-items/{owner}/{repo}/{issue number}")
        async with kit.pool.acquire() as conn:
            found = await projection.describe(conn, f"{owner}/{repo}#{number}")
        if found is None:
            raise HTTPException(404, f"no work item {owner}/{repo}#{number}: it was never approved or seen")
        return found

    @router.get("/queue")
    async def queue(_who: Reader) -> dict[str, Any]:
        async with kit.pool.acquire() as conn:
            per_agent = await assignments.queue(conn)
        empty = {"depth": 0, "waiting": 0, "queued": 0, "running": 0, "oldest_age_s": None}
        return {"agents": {agent: per_agent.get(agent, empty) for agent in sorted({*AGENTS, *per_agent})}}

    @router.get("/assignments/next", response_model=None)
    async def next_assignment(who: Puller, agentId: Annotated[str, Query(pattern=NAME)]  # noqa: N803
                              ) -> dict[str, Any] | Response:
        _may_pull(who, agentId)
        if agentId not in PULL_AGENTS:  # the public runtime without Valkey: its stream's next entry, over HTTP
            found = await runtime_pull.next_entry(kit, agentId)
            if found is not None and "assignmentId" in found:
                async with kit.pool.acquire() as conn:
                    await assignments.taken(conn, [_uuid(found["assignmentId"])])
            return found if found is not None else Response(status_code=204)
        async with kit.pool.acquire() as conn:
            found = await assignments.lease_next(conn, agentId, who.subject, lease)
        return found if found is not None else Response(status_code=204)

    async def settle(who: Principal, assignment_id: str, agent: str, action: str) -> dict[str, str]:
        _may_pull(who, agent)
        async with kit.pool.acquire() as conn:
            status = await assignments.settle(conn, assignment_id, agent, action)
        if status is None:
            raise HTTPException(404, f"no assignment {assignment_id} leased to {agent}: ask "
                                     f"/api/assignments/next?agentId={agent} for one")
        return {"id": assignment_id, "status": status}

    @router.post("/assignments/{assignment_id}/ack")
    async def ack(assignment_id: str, who: Puller,
                  agentId: Annotated[str, Query(pattern=NAME)] = "ibuild-e") -> dict[str, str]:  # noqa: N803
        return await settle(who, _uuid(assignment_id), agentId, "ack")

    @router.post("/assignments/{assignment_id}/release")
    async def release(assignment_id: str, who: Puller,
                      agentId: Annotated[str, Query(pattern=NAME)] = "ibuild-e") -> dict[str, str]:  # noqa: N803
        return await settle(who, _uuid(assignment_id), agentId, "release")

    @router.get("/repo-learnings", response_model=None)
    async def learnings(_who: Learner, repo: Annotated[str, Query(pattern=REPO)],
                        accept: Annotated[str, Header()] = "") -> dict[str, Any] | list[dict[str, str]]:
        """The runtime's bare array of `{key, value}`; ours (`{repo, learnings}`) with `Accept: OUR_LEARNINGS`."""
        async with kit.pool.acquire() as conn:
            rows = await conn.fetch("SELECT key, value, agent_id, updated_at FROM repo_learnings WHERE repo = $1 "
                                    "ORDER BY key", repo)
        if OUR_LEARNINGS not in accept:  # the runtime ignores any other shape, so its path answers its own
            return [{"key": r["key"], "value": r["value"]} for r in rows]
        return {"repo": repo, "learnings": [{"key": r["key"], "value": r["value"], "agentId": r["agent_id"],
                                             "updatedAt": r["updated_at"].isoformat()} for r in rows]}

    @router.post("/repo-learnings", status_code=201)
    async def learn(who: Writer, body: LearningBody) -> dict[str, str]:
        if not who.may_speak_as(_agent_subject(body.agentId)):
            raise HTTPException(403, f"{who.subject} may not write learnings as agent {body.agentId}")
        async with kit.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO repo_learnings (repo, key, value, agent_id) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (repo, key) DO UPDATE SET value = excluded.value, agent_id = excluded.agent_id, "
                "updated_at = now()", body.repo, body.key, body.value, body.agentId)
        return {"repo": body.repo, "key": body.key}

    return router


def _valid(part: str) -> bool:
    return re.fullmatch(NAME, part) is not None


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError as error:
        raise HTTPException(422, f"{text!r} is not an assignment id (a UUID)") from error


def _may_pull(who: Principal, agent: str) -> None:
    if agent not in PULL_AGENTS and agent not in AGENTS:
        raise HTTPException(422, f"{agent} is no agent pool: pull mode is for {', '.join(sorted(AGENTS))}")
    if not who.may_speak_as(_agent_subject(agent)):
        raise HTTPException(403, f"{who.subject} may not take work as agent {agent}: use a token minted with "
                                 f"--subject agent:{agent} --scope assignments:pull")
