"""Merge and review routes of pull requests: is it merged, merge it, its reviews."""

# No `from __future__ import annotations`: FastAPI must see the route signatures' local Annotated aliases.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from rig_sandbox.actions.merging import merge_pull
from rig_sandbox.actions.reviews import create_review
from rig_sandbox.api.common import paginate, visible_repo
from rig_sandbox.auth import Auth, Identity
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import not_found
from rig_sandbox.shapes.pulls import review_json


class MergeRequest(BaseModel):
    """Body of `PUT /repos/{owner}/{repo}/pulls/{number}/merge` (everything optional)."""

    model_config = ConfigDict(extra="ignore")
    commit_title: str | None = None
    commit_message: str | None = None
    sha: str | None = None
    merge_method: str | None = None


class NewReview(BaseModel):
    """Body of `POST /repos/{owner}/{repo}/pulls/{number}/reviews`."""

    model_config = ConfigDict(extra="ignore")
    commit_id: str | None = None
    body: str | None = None
    event: str | None = None


def merges_router(sandbox: Sandbox, auth: Auth) -> APIRouter:
    """Routes of merging and reviewing pull requests."""
    router = APIRouter(tags=["pulls"])
    Actor = Annotated[Identity, Depends(auth.actor)]  # noqa: N806 - a type alias

    @router.get("/repos/{owner}/{repo}/pulls/{pull_number}/merge", status_code=204)
    async def is_merged(owner: str, repo: str, pull_number: int, actor: Actor) -> Response:
        found = visible_repo(sandbox, actor, owner, repo)
        _issue, pull = sandbox.pull_or_404(found, pull_number)
        if not pull.merged:
            raise not_found("https://docs.github.com/rest/pulls/pulls#check-if-a-pull-request-has-been-merged")
        return Response(status_code=204)

    @router.put("/repos/{owner}/{repo}/pulls/{pull_number}/merge")
    async def merge(owner: str, repo: str, pull_number: int, actor: Actor,
                    body: MergeRequest | None = None) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        wanted = body or MergeRequest()
        return await merge_pull(sandbox, found, pull_number, actor.account, sha=wanted.sha,
                                method=wanted.merge_method, title=wanted.commit_title, message=wanted.commit_message)

    @router.get("/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
    async def list_reviews(owner: str, repo: str, pull_number: int, actor: Actor, request: Request,
                           response: Response) -> list[dict[str, Any]]:
        found = visible_repo(sandbox, actor, owner, repo)
        sandbox.pull_or_404(found, pull_number)
        reviews = [review_json(sandbox.urls, found, review, sandbox.who) for review in found.reviews
                   if review.number == pull_number]
        return paginate(sandbox, request, response, reviews)

    @router.post("/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
    async def review(owner: str, repo: str, pull_number: int, actor: Actor,
                     body: NewReview | None = None) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        wanted = body or NewReview()
        return await create_review(sandbox, found, pull_number, actor.account, event=wanted.event,
                                   body=wanted.body, commit_id=wanted.commit_id)

    return router
