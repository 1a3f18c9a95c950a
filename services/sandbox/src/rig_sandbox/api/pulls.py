"""Pull request routes: list, open, read, edit, commits and files (merges and reviews: `api.merges`)."""

# No `from __future__ import annotations`: FastAPI must see the route signatures' local Annotated aliases.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from rig_sandbox.actions.pull_lifecycle import open_pull, update_pull
from rig_sandbox.actions.pulls import changes_start, full_json, simple_json
from rig_sandbox.api.common import paginate, visible_repo
from rig_sandbox.auth import Auth, Identity
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import validation_failed
from rig_sandbox.shapes.commits import commit_json, file_json


class NewPull(BaseModel):
    """Body of `POST /repos/{owner}/{repo}/pulls`."""

    model_config = ConfigDict(extra="ignore")
    title: str | None = None
    head: str
    base: str
    body: str | None = None
    draft: bool = False


class PullChanges(BaseModel):
    """Body of `PATCH /repos/{owner}/{repo}/pulls/{number}`."""

    model_config = ConfigDict(extra="ignore")
    title: str | None = None
    body: str | None = None
    state: str | None = None
    base: str | None = None


def pulls_router(sandbox: Sandbox, auth: Auth) -> APIRouter:
    """Routes of pull requests."""
    router = APIRouter(tags=["pulls"])
    Actor = Annotated[Identity, Depends(auth.actor)]  # noqa: N806 - a type alias

    @router.get("/repos/{owner}/{repo}/pulls")
    async def list_pulls(owner: str, repo: str, actor: Actor, request: Request, response: Response,
                         state: str = "open", head: str | None = None, base: str | None = None,
                         direction: str | None = None) -> list[dict[str, Any]]:
        found = visible_repo(sandbox, actor, owner, repo)
        if state not in ("open", "closed", "all"):
            raise validation_failed("PullRequest", "state", "invalid")
        head_ref = head.split(":", 1)[-1] if head else None
        chosen = [number for number, pull in found.pulls.items()
                  if state in ("all", found.issues[number].state) and head_ref in (None, pull.head_ref)
                  and base in (None, pull.base_ref)]
        chosen.sort(reverse=direction != "asc")
        page = paginate(sandbox, request, response, chosen)
        return [simple_json(sandbox, found, found.issues[n], found.pulls[n]) for n in page]

    @router.post("/repos/{owner}/{repo}/pulls", status_code=201)
    async def create_pull(owner: str, repo: str, body: NewPull, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        if body.title is None:
            raise validation_failed("PullRequest", "title", "missing_field")
        issue = await open_pull(sandbox, found, actor.account, title=body.title, head=body.head, base=body.base,
                                body=body.body, draft=body.draft)
        return await full_json(sandbox, found, issue, found.pulls[issue.number])

    @router.get("/repos/{owner}/{repo}/pulls/{pull_number}")
    async def get_pull(owner: str, repo: str, pull_number: int, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        issue, pull = sandbox.pull_or_404(found, pull_number)
        return await full_json(sandbox, found, issue, pull)

    @router.patch("/repos/{owner}/{repo}/pulls/{pull_number}")
    async def edit_pull(owner: str, repo: str, pull_number: int, changes: PullChanges,
                        actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        await update_pull(sandbox, found, pull_number, actor.account, title=changes.title, body=changes.body,
                          body_given="body" in changes.model_fields_set, state=changes.state, base=changes.base)
        issue, pull = sandbox.pull_or_404(found, pull_number)
        return await full_json(sandbox, found, issue, pull)

    @router.get("/repos/{owner}/{repo}/pulls/{pull_number}/commits")
    async def list_commits(owner: str, repo: str, pull_number: int, actor: Actor, request: Request,
                           response: Response) -> list[dict[str, Any]]:
        found = visible_repo(sandbox, actor, owner, repo)
        _issue, pull = sandbox.pull_or_404(found, pull_number)
        git = sandbox.repository(found)
        merge_base = await changes_start(git, pull)
        commits = await git.commits_between(merge_base, pull.head_sha)
        page = paginate(sandbox, request, response, commits)
        return [commit_json(sandbox.urls, found, commit, sandbox.by_email) for commit in page]

    @router.get("/repos/{owner}/{repo}/pulls/{pull_number}/files")
    async def list_files(owner: str, repo: str, pull_number: int, actor: Actor, request: Request,
                         response: Response) -> list[dict[str, Any]]:
        found = visible_repo(sandbox, actor, owner, repo)
        _issue, pull = sandbox.pull_or_404(found, pull_number)
        git = sandbox.repository(found)
        merge_base = await changes_start(git, pull)
        changes = await git.changes(merge_base, pull.head_sha)
        page = paginate(sandbox, request, response, changes)
        return [file_json(sandbox.urls, found, change, pull.head_sha) for change in page]

    return router
