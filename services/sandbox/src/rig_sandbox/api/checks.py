"""Check and status routes: create a check run, list runs and suites for a ref, statuses and the combined one."""

# No `from __future__ import annotations`: FastAPI must see the route signatures' local Annotated aliases.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from rig_sandbox.actions.checks import NewCheckRun, create_check_run, create_status, run_json, suite_json
from rig_sandbox.api.common import paginate, visible_repo
from rig_sandbox.auth import Auth, Identity
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, not_found
from rig_sandbox.records import Account, Repo
from rig_sandbox.shapes.checks import combined_status_json
from rig_sandbox.verdicts import latest_runs


class CheckOutput(BaseModel):
    """The `output` of a check run."""

    model_config = ConfigDict(extra="ignore")
    title: str | None = None
    summary: str | None = None
    text: str | None = None


class NewCheckRunBody(BaseModel):
    """Body of `POST /repos/{owner}/{repo}/check-runs`."""

    model_config = ConfigDict(extra="ignore")
    name: str
    head_sha: str
    details_url: str | None = None
    external_id: str | None = None
    status: str | None = None
    started_at: str | None = None
    conclusion: str | None = None
    completed_at: str | None = None
    output: CheckOutput | None = None


class NewStatus(BaseModel):
    """Body of `POST /repos/{owner}/{repo}/statuses/{sha}`."""

    model_config = ConfigDict(extra="ignore")
    state: str
    target_url: str | None = None
    description: str | None = None
    context: str | None = None


async def sha_of_ref(sandbox: Sandbox, repo: Repo, ref: str) -> str:
    """The commit a sha, branch or tag names, else 404 `No commit found for SHA`."""
    sha = await sandbox.repository(repo).resolve(ref)
    if sha is None:
        raise GitHubError(404, f"No commit found for SHA: {ref}")
    return sha


def checks_router(sandbox: Sandbox, auth: Auth) -> APIRouter:
    """Routes of check runs, check suites and commit statuses."""
    router = APIRouter(tags=["checks"])
    Actor = Annotated[Identity, Depends(auth.actor)]  # noqa: N806 - a type alias

    @router.post("/repos/{owner}/{repo}/check-runs", status_code=201)
    async def new_check_run(owner: str, repo: str, body: NewCheckRunBody, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        if actor.app is None:
            raise GitHubError(403, "You must authenticate via a GitHub App.",
                              documentation_url="https://docs.github.com/rest/checks/runs#create-a-check-run")
        output = body.output or CheckOutput()
        wanted = NewCheckRun(name=body.name, head_sha=body.head_sha, status=body.status, conclusion=body.conclusion,
                             details_url=body.details_url, external_id=body.external_id,
                             started_at=body.started_at, completed_at=body.completed_at, title=output.title,
                             summary=output.summary, text=output.text)
        return await create_check_run(sandbox, found, actor.app, actor.account, wanted)

    @router.get("/repos/{owner}/{repo}/commits/{ref:path}/check-runs")
    async def runs_for_ref(owner: str, repo: str, ref: str, actor: Actor, request: Request, response: Response,
                           check_name: str | None = None, status: str | None = None, filter: str = "latest",
                           app_id: int | None = None) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        sha = await sha_of_ref(sandbox, found, ref)
        runs = [run for run in found.check_runs if run.head_sha == sha]
        runs = latest_runs(runs) if filter != "all" else runs
        runs = [run for run in runs if check_name in (None, run.name) and status in (None, run.status)
                and app_id in (None, sandbox.app(run.app_role).id)]
        runs.sort(key=lambda run: run.id, reverse=True)
        page = paginate(sandbox, request, response, runs)
        return {"total_count": len(runs), "check_runs": [await run_json(sandbox, found, run) for run in page]}

    @router.get("/repos/{owner}/{repo}/commits/{ref:path}/check-suites")
    async def suites_for_ref(owner: str, repo: str, ref: str, actor: Actor, request: Request, response: Response,
                             app_id: int | None = None, check_name: str | None = None) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        sha = await sha_of_ref(sandbox, found, ref)
        suites = [suite for suite in found.check_suites if suite.head_sha == sha
                  and app_id in (None, sandbox.app(suite.app_role).id)
                  and (check_name is None or any(run.suite_id == suite.id and run.name == check_name
                                                 for run in found.check_runs))]
        page = paginate(sandbox, request, response, suites)
        return {"total_count": len(suites), "check_suites": [await suite_json(sandbox, found, s) for s in page]}

    @router.get("/repos/{owner}/{repo}/commits/{ref:path}/status")
    async def combined_status(owner: str, repo: str, ref: str, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        sha = await sandbox.repository(found).resolve(ref)
        if sha is None:
            raise not_found("https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference")
        statuses = [status for status in found.statuses if status.sha == sha]
        creators: dict[str, Account] = {status.creator: sandbox.who(status.creator) for status in statuses}
        return combined_status_json(sandbox.urls, found, sha, statuses, creators, sandbox.repo_json(found))

    @router.post("/repos/{owner}/{repo}/statuses/{sha}", status_code=201)
    async def new_status(owner: str, repo: str, sha: str, body: NewStatus, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        return await create_status(sandbox, found, actor.account, sha, state=body.state, context=body.context,
                                   description=body.description, target_url=body.target_url)

    return router
