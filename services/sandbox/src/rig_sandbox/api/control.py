"""The `/_sandbox/…` control endpoints: drive the sandbox as a person would, without GitHub credentials.

They are not part of GitHub's API (nothing under `/_sandbox` exists on GitHub). `GET /_sandbox` lists them.
Actions taken here act as the sandbox user named by `author` (default `maintainer`), or for checks as an
App's bot, and send the same webhooks as the GitHub routes.
"""

# No `from __future__ import annotations`: FastAPI must see the route signatures' local Annotated aliases.

import base64
import binascii
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from rig_sandbox.actions import issues as act
from rig_sandbox.actions.checks import NewCheckRun, create_check_run, create_status
from rig_sandbox.actions.repos import NAME, commit_files, create_repo
from rig_sandbox.api.checks import sha_of_ref
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import validation_failed
from rig_sandbox.identities import DEFAULT_AUTHOR, mint_personal_token
from rig_sandbox.records import Account, Repo
from rig_sandbox.shapes.issues import issue_labels

FileContent = str | dict[str, str] | None
"""A file's new content: text, `{"base64": "…"}` for bytes, or None to delete it."""

ENDPOINTS = {
    "GET /_sandbox/apps": "the three Apps: id, slug, installation id, bot login and private key path",
    "POST /_sandbox/users": "{login, name?, collaborator?}: create a user (collaborator false: an outsider, "
                            "author_association NONE)",
    "POST /_sandbox/users/{login}/tokens": "mint a personal access token for a user",
    "GET /_sandbox/repos": "the repositories with their clone URLs",
    "POST /_sandbox/repos": "{owner, name, files: {path: text | {base64}}, default_branch?, description?, "
                            "require_review?, require_up_to_date?}: create a repository with a first commit",
    "PATCH /_sandbox/repos/{owner}/{repo}": "{require_review?, require_up_to_date?, required_checks?, "
                                            "description?}: required_checks is branch protection's list",
    "POST /_sandbox/repos/{owner}/{repo}/issues": "{title, body?, labels?, author?}: open an issue",
    "POST /_sandbox/repos/{owner}/{repo}/issues/{number}/labels": "{labels, author?}: add labels",
    "DELETE /_sandbox/repos/{owner}/{repo}/issues/{number}/labels/{name}": "remove a label (?author=)",
    "POST /_sandbox/repos/{owner}/{repo}/commits": "{branch, files: {path: text | {base64} | null}, message?, "
                                                   "from?, author?}: commit and push to a branch",
    "POST /_sandbox/repos/{owner}/{repo}/check-runs": "{ref, name, conclusion?, status?, app?, summary?}",
    "POST /_sandbox/repos/{owner}/{repo}/statuses": "{ref, state, context?, description?, target_url?, author?}",
    "GET /_sandbox/events": "the webhook events emitted lately, newest last (?limit=)",
    "GET /_sandbox/deliveries": "the webhook deliveries, as the App's deliveries API lists them",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewUser(_Body):
    """A sandbox user to create."""

    login: str = Field(pattern=r"^[A-Za-z0-9-]{1,39}$")
    name: str | None = None
    collaborator: bool = True
    """False: an outsider, who can comment and review but whose `author_association` is NONE."""


class NewRepo(_Body):
    """A repository to create, with the files of its first commit."""

    owner: str
    name: str
    files: dict[str, str | dict[str, str]]
    default_branch: str = "main"
    description: str | None = None
    require_review: bool = False
    require_up_to_date: bool = False
    author: str = DEFAULT_AUTHOR


class RepoSettings(_Body):
    """Repository settings to change."""

    require_review: bool | None = None
    require_up_to_date: bool | None = None
    required_checks: list[str] | None = None
    """Branch protection's required status checks on the default branch ([] or a list; unset: unchanged)."""
    description: str | None = None


class ControlIssue(_Body):
    """An issue to open."""

    title: str
    body: str | None = None
    labels: list[str] = Field(default_factory=list)
    author: str = DEFAULT_AUTHOR


class ControlLabels(_Body):
    """Labels to add."""

    labels: list[str]
    author: str = DEFAULT_AUTHOR


class ControlCommit(_Body):
    """File changes to commit on a branch (created from `from` when new) and push."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    branch: str
    files: dict[str, FileContent]
    message: str = "Update files"
    start_from: str | None = Field(default=None, alias="from")
    author: str = DEFAULT_AUTHOR


class ControlCheck(_Body):
    """A check run result to report on a ref, as an App."""

    ref: str
    name: str
    conclusion: str | None = None
    status: str | None = None
    app: Literal["conductor", "dev", "review"] = "conductor"
    summary: str | None = None
    details_url: str | None = None


class ControlStatus(_Body):
    """A commit status to set on a ref."""

    ref: str
    state: str
    context: str = "default"
    description: str | None = None
    target_url: str | None = None
    author: str = DEFAULT_AUTHOR


def decode_file(path: str, content: FileContent) -> bytes | None:
    """A file's bytes from its JSON form (422 when `{"base64": …}` is not base64)."""
    if content is None or isinstance(content, str):
        return content.encode() if content is not None else None
    try:
        return base64.b64decode(content.get("base64", ""), validate=True)
    except binascii.Error as error:
        raise validation_failed("File", path, "invalid", message="not base64") from error


def control_router(sandbox: Sandbox, events: Callable[[int], list[dict[str, Any]]],
                   deliveries: Callable[[], list[dict[str, Any]]]) -> APIRouter:
    """The control endpoints; `events` and `deliveries` say what was emitted and delivered."""
    router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])

    def user(login: str) -> Account:
        if not NAME.match(login):
            raise validation_failed("User", "login", "invalid")
        return sandbox.store.account(login)

    def repo_of(owner: str, name: str) -> Repo:
        return sandbox.repo_or_404(owner, name)

    @router.get("")
    async def index() -> dict[str, Any]:
        return {"endpoints": ENDPOINTS, "api": sandbox.urls.base}

    @router.get("/apps")
    async def apps() -> list[dict[str, Any]]:
        return [{"role": app.role, "id": app.id, "slug": app.slug, "name": app.name,
                 "installation_id": app.installation_id, "bot_login": app.bot_login, "key_path": app.key_path}
                for app in sandbox.apps.values()]

    @router.post("/users", status_code=201)
    async def new_user(body: NewUser) -> dict[str, Any]:
        account = sandbox.store.account(body.login, "User", body.name)
        account.collaborator = body.collaborator
        await sandbox.store.save()
        return {"login": account.login, "id": account.id, "type": account.type, "collaborator": account.collaborator}

    @router.post("/users/{login}/tokens", status_code=201)
    async def new_token(login: str) -> dict[str, Any]:
        account = user(login)
        record = mint_personal_token(sandbox.store, account.login)
        await sandbox.store.save()
        return {"login": account.login, "token": record.token}

    @router.get("/repos")
    async def repos() -> list[dict[str, Any]]:
        return [{"full_name": repo.full_name, "id": repo.id, "default_branch": repo.default_branch,
                 "clone_url": sandbox.urls.clone(repo.full_name)} for repo in sandbox.store.state.repos.values()]

    @router.post("/repos", status_code=201)
    async def new_repo(body: NewRepo) -> dict[str, Any]:
        files = {path: decode_file(path, content) or b"" for path, content in body.files.items()}
        repo = await create_repo(sandbox, body.owner, body.name, files, user(body.author),
                                 default_branch=body.default_branch, description=body.description)
        repo.require_review, repo.require_up_to_date = body.require_review, body.require_up_to_date
        await sandbox.store.save()
        return sandbox.repo_json(repo)

    @router.patch("/repos/{owner}/{repo}")
    async def repo_settings(owner: str, repo: str, body: RepoSettings) -> dict[str, Any]:
        found = repo_of(owner, repo)
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(found, name, value)
        await sandbox.store.save()
        return {**sandbox.repo_json(found), "require_review": found.require_review,
                "require_up_to_date": found.require_up_to_date, "required_checks": found.required_checks}

    @router.post("/repos/{owner}/{repo}/issues", status_code=201)
    async def open_issue(owner: str, repo: str, body: ControlIssue) -> dict[str, Any]:
        found = repo_of(owner, repo)
        issue = await act.open_issue(sandbox, found, user(body.author), body.title, body.body, body.labels)
        return act.issue_payload(sandbox, found, issue)

    @router.post("/repos/{owner}/{repo}/issues/{number}/labels")
    async def add_labels(owner: str, repo: str, number: int, body: ControlLabels) -> list[dict[str, Any]]:
        found = repo_of(owner, repo)
        issue = sandbox.issue_or_404(found, number)
        await act.add_labels(sandbox, found, issue, user(body.author), body.labels)
        return issue_labels(sandbox.urls, found, issue)

    @router.delete("/repos/{owner}/{repo}/issues/{number}/labels/{name:path}")
    async def remove_label(owner: str, repo: str, number: int, name: str,
                           author: str = DEFAULT_AUTHOR) -> list[dict[str, Any]]:
        found = repo_of(owner, repo)
        issue = sandbox.issue_or_404(found, number)
        await act.remove_label(sandbox, found, issue, user(author), name)
        return issue_labels(sandbox.urls, found, issue)

    @router.post("/repos/{owner}/{repo}/commits", status_code=201)
    async def commit(owner: str, repo: str, body: ControlCommit) -> dict[str, Any]:
        found = repo_of(owner, repo)
        files = {path: decode_file(path, content) for path, content in body.files.items()}
        sha = await commit_files(sandbox, found, user(body.author), body.branch, files, body.message,
                                 body.start_from)
        return {"sha": sha, "branch": body.branch, "ref": f"refs/heads/{body.branch}"}

    @router.post("/repos/{owner}/{repo}/check-runs", status_code=201)
    async def check_run(owner: str, repo: str, body: ControlCheck) -> dict[str, Any]:
        found = repo_of(owner, repo)
        app = sandbox.app(body.app)
        wanted = NewCheckRun(name=body.name, head_sha=await sha_of_ref(sandbox, found, body.ref),
                             status=body.status, conclusion=body.conclusion, summary=body.summary,
                             title=body.name, details_url=body.details_url)
        return await create_check_run(sandbox, found, app, sandbox.who(app.bot_login), wanted)

    @router.post("/repos/{owner}/{repo}/statuses", status_code=201)
    async def status(owner: str, repo: str, body: ControlStatus) -> dict[str, Any]:
        found = repo_of(owner, repo)
        sha = await sha_of_ref(sandbox, found, body.ref)
        return await create_status(sandbox, found, user(body.author), sha, state=body.state, context=body.context,
                                   description=body.description, target_url=body.target_url)

    @router.get("/events")
    async def emitted(limit: int = 100) -> list[dict[str, Any]]:
        return events(limit)

    @router.get("/deliveries")
    async def delivered() -> list[dict[str, Any]]:
        return deliveries()

    return router
