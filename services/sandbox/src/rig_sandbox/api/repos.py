"""Repository routes: the repository, forks, a branch, contents, refs, comparisons and (App-less) repository hooks."""

# No `from __future__ import annotations`: FastAPI must see the route signatures' local Annotated aliases.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from rig_sandbox.actions.forks import create_fork
from rig_sandbox.actions.repos import create_ref
from rig_sandbox.api.common import paginate, visible_repo
from rig_sandbox.auth import Auth, Identity
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, not_found
from rig_sandbox.git.repository import safe_rev
from rig_sandbox.shapes.commits import commit_json, compare_json, file_json
from rig_sandbox.shapes.repos import (
    branch_json,
    content_entry_json,
    file_content_json,
    ref_json,
    required_checks,
    status_check_policy_json,
    symlink_content_json,
)

PROTECTION_DOCS = "https://docs.github.com/rest/branches/branch-protection#get-status-checks-protection"
CONTENTS_DOCS = "https://docs.github.com/rest/repos/contents#get-repository-content"


class NewRef(BaseModel):
    """Body of `POST /repos/{owner}/{repo}/git/refs`."""

    model_config = ConfigDict(extra="ignore")
    ref: str
    sha: str


def protection_router(sandbox: Sandbox, auth: Auth) -> APIRouter:
    """Branch protection, as far as the merger reads it: the required status checks (404: not protected)."""
    router = APIRouter(tags=["repos"])
    Actor = Annotated[Identity, Depends(auth.actor)]  # noqa: N806 - a type alias

    @router.get("/repos/{owner}/{repo}/branches/{branch:path}/protection/required_status_checks")
    async def get_required_checks(owner: str, repo: str, branch: str, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        required = required_checks(found, branch)
        if required is None:
            raise GitHubError(404, "Branch not protected", documentation_url=PROTECTION_DOCS)
        return status_check_policy_json(sandbox.urls, found, branch, required)

    return router


def repos_router(sandbox: Sandbox, auth: Auth) -> APIRouter:
    """Routes of one repository's data (branch protection's first: `branches/{branch:path}` would take it)."""
    router = APIRouter(tags=["repos"])
    router.include_router(protection_router(sandbox, auth))
    Actor = Annotated[Identity, Depends(auth.actor)]  # noqa: N806 - a type alias

    @router.get("/repos/{owner}/{repo}")
    async def get_repo(owner: str, repo: str, actor: Actor) -> dict[str, Any]:
        return sandbox.repo_json(visible_repo(sandbox, actor, owner, repo))

    @router.post("/repos/{owner}/{repo}/forks", status_code=202)
    async def fork(owner: str, repo: str, actor: Actor) -> dict[str, Any]:
        # As a user (a personal token): the fork is theirs, under the same name; the body's options are ignored.
        return sandbox.repo_json(await create_fork(sandbox, visible_repo(sandbox, actor, owner, repo), actor.account))

    @router.get("/repos/{owner}/{repo}/branches/{branch:path}")
    async def get_branch(owner: str, repo: str, branch: str, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        git = sandbox.repository(found)
        sha = await git.branch_sha(branch) if safe_rev(branch) else None
        if sha is None:
            raise GitHubError(404, "Branch not found",
                              documentation_url="https://docs.github.com/rest/branches/branches#get-a-branch")
        commit = commit_json(sandbox.urls, found, await git.commit(sha), sandbox.by_email)
        return branch_json(sandbox.urls, found, branch, commit)

    @router.get("/repos/{owner}/{repo}/contents")
    @router.get("/repos/{owner}/{repo}/contents/{path:path}")
    async def get_content(owner: str, repo: str, actor: Actor, path: str = "", ref: str | None = None) -> Any:
        found = visible_repo(sandbox, actor, owner, repo)
        git = sandbox.repository(found)
        wanted = ref or found.default_branch
        sha = await git.resolve(wanted)
        path = path.strip("/")
        entry = await git.entry(sha, path) if sha else None
        if sha is None or entry is None:
            raise not_found(CONTENTS_DOCS)
        if entry.type == "dir":
            return [content_entry_json(sandbox.urls, found, child, wanted) for child in await git.listing(sha, path)]
        if entry.type == "symlink":
            return symlink_content_json(sandbox.urls, found, entry, wanted, await git.blob(entry.sha))
        if entry.type == "submodule":
            return content_entry_json(sandbox.urls, found, entry, wanted)
        return file_content_json(sandbox.urls, found, entry, wanted, await git.blob(entry.sha))

    @router.get("/repos/{owner}/{repo}/git/ref/{ref:path}")
    async def get_ref(owner: str, repo: str, ref: str, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        refs = await sandbox.repository(found).refs()
        if not refs:
            raise GitHubError(409, "Git Repository is empty.")
        full = f"refs/{ref}"
        if full not in refs:
            raise not_found("https://docs.github.com/rest/git/refs#get-a-reference")
        return ref_json(sandbox.urls, found, full, refs[full])

    @router.post("/repos/{owner}/{repo}/git/refs", status_code=201)
    async def new_ref(owner: str, repo: str, body: NewRef, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        await create_ref(sandbox, found, actor.account, body.ref, body.sha)
        return ref_json(sandbox.urls, found, body.ref, body.sha)

    @router.get("/repos/{owner}/{repo}/compare/{basehead:path}")
    async def compare(owner: str, repo: str, basehead: str, actor: Actor) -> dict[str, Any]:
        found = visible_repo(sandbox, actor, owner, repo)
        return await _compare(sandbox, found, basehead)

    @router.get("/repos/{owner}/{repo}/commits/{ref}")
    async def get_commit(owner: str, repo: str, ref: str, actor: Actor) -> dict[str, Any]:
        # Not in the subset, but PyGithub's `Repository.get_commit` reads it before any check or status call.
        found = visible_repo(sandbox, actor, owner, repo)
        git = sandbox.repository(found)
        sha = await git.resolve(ref)
        if sha is None:
            raise GitHubError(422, f"No commit found for SHA: {ref}")
        commit = await git.commit(sha)
        parent = commit.parents[0] if commit.parents else "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # empty tree
        changes = await git.changes(parent, sha)
        additions, deletions = sum(c.additions for c in changes), sum(c.deletions for c in changes)
        return {**commit_json(sandbox.urls, found, commit, sandbox.by_email),
                "stats": {"additions": additions, "deletions": deletions, "total": additions + deletions},
                "files": [file_json(sandbox.urls, found, change, sha) for change in changes]}

    @router.get("/repos/{owner}/{repo}/hooks")
    async def list_hooks(owner: str, repo: str, actor: Actor, request: Request, response: Response) -> list[Any]:
        visible_repo(sandbox, actor, owner, repo)
        # The Apps' webhook is the App's, not a repository hook: like GitHub, a repository has none of its own.
        return paginate(sandbox, request, response, [])

    return router


async def _compare(sandbox: Sandbox, repo: Any, basehead: str) -> dict[str, Any]:
    base_name, sep, head_name = basehead.partition("...")
    if not sep:
        raise not_found("https://docs.github.com/rest/commits/commits#compare-two-commits")
    git = sandbox.repository(repo)
    names = [name.split(":", 1)[-1] for name in (base_name, head_name)]
    base, head = await git.resolve(names[0]), await git.resolve(names[1])
    merge_base = await git.merge_base(base, head) if base and head else None
    if base is None or head is None or merge_base is None:
        raise not_found("https://docs.github.com/rest/commits/commits#compare-two-commits")
    commits = await git.commits_between(merge_base, head)
    changes = await git.changes(merge_base, head)

    def shown(sha_commit: Any) -> dict[str, Any]:
        return commit_json(sandbox.urls, repo, sha_commit, sandbox.by_email)

    return compare_json(
        sandbox.urls, repo, basehead, shown(await git.commit(base)), shown(await git.commit(merge_base)),
        ahead_by=len(commits), behind_by=await git.count_between(head, base), commits=[shown(c) for c in commits],
        files=[file_json(sandbox.urls, repo, change, head) for change in changes])
