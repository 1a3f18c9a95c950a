"""Issue routes: create, read, edit, comments and labels (pull requests are issues here too)."""

# No `from __future__ import annotations`: FastAPI must see the route signatures' local Annotated aliases.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from rig_sandbox.actions import issues as act
from rig_sandbox.api.common import paginate, visible_repo
from rig_sandbox.auth import Auth, Identity
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, validation_failed
from rig_sandbox.records import Repo
from rig_sandbox.shapes.issues import comment_json, issue_labels


class NewIssue(BaseModel):
    """Body of `POST /repos/{owner}/{repo}/issues`."""

    model_config = ConfigDict(extra="ignore")
    title: str | int
    body: str | None = None
    labels: list[str | dict[str, Any]] | None = None
    assignees: list[str] | None = None
    assignee: str | None = None


class IssueChanges(BaseModel):
    """Body of `PATCH /repos/{owner}/{repo}/issues/{number}` (only what is given changes)."""

    model_config = ConfigDict(extra="ignore")
    title: str | int | None = None
    body: str | None = None
    state: str | None = None
    state_reason: str | None = None
    labels: list[str | dict[str, Any]] | None = None


class NewComment(BaseModel):
    """Body of `POST /repos/{owner}/{repo}/issues/{number}/comments`."""

    model_config = ConfigDict(extra="ignore")
    body: str


def label_names(raw: Any) -> list[str]:
    """Label names from any form GitHub takes: `["a"]`, `{"labels": ["a"]}`, `[{"name": "a"}]`, `"a"`."""
    if isinstance(raw, dict) and "labels" in raw:
        raw = raw["labels"]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise validation_failed("Label", "labels", "invalid")
    names = []
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise validation_failed("Label", "name", "invalid")
        names.append(name)
    return names


def issues_router(sandbox: Sandbox, auth: Auth) -> APIRouter:
    """Routes of issues, their comments and labels."""
    router = APIRouter(tags=["issues"])
    Actor = Annotated[Identity, Depends(auth.actor)]  # noqa: N806 - a type alias

    def shown(repo: Repo, number: int) -> dict[str, Any]:
        return act.issue_payload(sandbox, repo, repo.issues[number])

    @router.post("/repos/{owner}/{repo}/issues", status_code=201)
    async def create_issue(owner: str, repo: str, body: NewIssue, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        assignees = (body.assignees or []) + ([body.assignee] if body.assignee else [])
        issue = await act.open_issue(sandbox, found, actor.account, str(body.title), body.body,
                                     label_names(body.labels or []), assignees)
        return shown(found, issue.number)

    @router.get("/repos/{owner}/{repo}/issues/{issue_number}")
    async def get_issue(owner: str, repo: str, issue_number: int, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        return shown(found, sandbox.issue_or_404(found, issue_number).number)

    @router.patch("/repos/{owner}/{repo}/issues/{issue_number}")
    async def update_issue(owner: str, repo: str, issue_number: int, changes: IssueChanges,
                           actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        issue = sandbox.issue_or_404(found, issue_number)
        if changes.state not in (None, "open", "closed"):
            raise validation_failed("Issue", "state", "invalid")
        if changes.state_reason is not None and changes.state_reason not in act.STATE_REASONS:
            raise validation_failed("Issue", "state_reason", "invalid")
        await act.edit_issue(sandbox, found, issue, actor.account,
                             title=str(changes.title) if changes.title is not None else None, body=changes.body,
                             body_given="body" in changes.model_fields_set)
        if changes.labels is not None:
            await act.set_labels(sandbox, found, issue, actor.account, label_names(changes.labels))
        if changes.state == "closed":
            reason = changes.state_reason or "completed"
            await act.close_issue(sandbox, found, issue, actor.account, None if issue.is_pull else reason)
        elif changes.state == "open":
            await act.reopen_issue(sandbox, found, issue, actor.account)
        return shown(found, issue.number)

    @router.get("/repos/{owner}/{repo}/issues/{issue_number}/comments")
    async def list_comments(owner: str, repo: str, issue_number: int, actor: Actor, request: Request,
                            response: Response) -> list[dict[str, Any]]:
        found = visible_repo(sandbox, actor, owner, repo)
        sandbox.issue_or_404(found, issue_number)
        comments = [comment_json(sandbox.urls, found, c, sandbox.who) for c in found.comments
                    if c.number == issue_number]
        return paginate(sandbox, request, response, comments)

    @router.post("/repos/{owner}/{repo}/issues/{issue_number}/comments", status_code=201)
    async def create_comment(owner: str, repo: str, issue_number: int, body: NewComment,
                             actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        issue = sandbox.issue_or_404(found, issue_number)
        return await act.add_comment(sandbox, found, issue, actor.account, body.body)

    @router.get("/repos/{owner}/{repo}/issues/{issue_number}/labels")
    async def list_labels(owner: str, repo: str, issue_number: int, actor: Actor, request: Request,
                          response: Response) -> list[dict[str, Any]]:
        found = visible_repo(sandbox, actor, owner, repo)
        issue = sandbox.issue_or_404(found, issue_number)
        return paginate(sandbox, request, response, issue_labels(sandbox.urls, found, issue))

    @router.post("/repos/{owner}/{repo}/issues/{issue_number}/labels")
    async def add_labels(owner: str, repo: str, issue_number: int, actor: Actor,
                         body: Annotated[Any, Body()] = None) -> list[dict[str, Any]]:
        found = visible_repo(sandbox, actor, owner, repo)
        issue = sandbox.issue_or_404(found, issue_number)
        if body is None:
            raise GitHubError(422, "Invalid request.\n\nNo labels given.")
        await act.add_labels(sandbox, found, issue, actor.account, label_names(body))
        return issue_labels(sandbox.urls, found, issue)

    @router.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels/{name:path}")
    async def remove_label(owner: str, repo: str, issue_number: int, name: str,
                           actor: Actor) -> list[dict[str, Any]]:
        found = visible_repo(sandbox, actor, owner, repo)
        issue = sandbox.issue_or_404(found, issue_number)
        await act.remove_label(sandbox, found, issue, actor.account, name)
        return issue_labels(sandbox.urls, found, issue)

    return router
