"""Repositories and their refs: create one with a first commit, commit files to a branch, create a ref."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from rig_sandbox.actions.pushes import refs_changed
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, custom_validation, validation_failed
from rig_sandbox.git.objects import Person
from rig_sandbox.git.repository import safe_rev
from rig_sandbox.git.runner import ZERO_SHA
from rig_sandbox.records import Account, Repo
from rig_sandbox.shapes.commits import noreply_email

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
"""What GitHub allows in an owner or repository name."""


def person_of(account: Account) -> Person:
    """The git identity of an account: its login and no-reply e-mail."""
    return Person(account.login, noreply_email(account))


def valid_path(path: str) -> bool:
    """Whether `path` can name a file in a commit (relative, no empty, `.`, `..` or `.git` parts)."""
    parts = path.split("/")
    return bool(path) and "\0" not in path and "\n" not in path and all(
        part and part not in (".", "..") and part.lower() != ".git" for part in parts)


def _check_paths(paths: Iterable[str]) -> None:
    for path in paths:
        if not valid_path(path):
            raise validation_failed("File", "path", "invalid", message=f"{path!r} is not a usable file path")


def valid_branch(name: str) -> bool:
    """Whether `name` can be a branch (a subset of `git check-ref-format --branch`)."""
    return safe_rev(name) and not name.endswith((".lock", "/", ".")) and "//" not in name and "@{" not in name \
        and not any(c in name for c in "~^?*[\\") and not name.startswith("/")


async def create_repo(sandbox: Sandbox, owner: str, name: str, files: Mapping[str, bytes], author: Account, *,
                      default_branch: str = "main", description: str | None = None,
                      executable: frozenset[str] = frozenset()) -> Repo:
    """Create `owner/name` as a bare repository whose default branch holds `files` in one first commit."""
    if not NAME.match(owner) or not NAME.match(name) or name.endswith(".git"):
        raise validation_failed("Repository", "name", "invalid")
    if not valid_branch(default_branch):
        raise validation_failed("Repository", "default_branch", "invalid")
    if sandbox.store.repo(owner, name) is not None:
        raise custom_validation("Repository", "name already exists on this account")
    if not files:
        raise validation_failed("Repository", "files", "missing_field", message="give at least one file")
    _check_paths(files)
    sandbox.store.account(owner, "Organization")
    repo = Repo(id=sandbox.store.new_id(), owner=owner, name=name, default_branch=default_branch,
                description=description)
    git_dir = sandbox.git_dir(owner, name)
    await sandbox.git.init(git_dir, default_branch)
    git = sandbox.repository(repo)
    sha = await git.write_files(None, dict(files), "Initial commit", person_of(author), person_of(author), executable)
    await git.update_ref(f"refs/heads/{default_branch}", sha, None)
    sandbox.store.add_repo(repo)
    await sandbox.store.save()
    return repo


async def commit_files(sandbox: Sandbox, repo: Repo, author: Account, branch: str, files: Mapping[str, bytes | None],
                       message: str, start_from: str | None = None) -> str:
    """Commit file changes (None deletes) on `branch`, made from `start_from` (default branch) when new; push."""
    if not valid_branch(branch):
        raise validation_failed("Commit", "branch", "invalid")
    if not files:
        raise validation_failed("Commit", "files", "missing_field")
    _check_paths(files)
    git = sandbox.repository(repo)
    async with sandbox.lock(repo):
        before = await git.branch_sha(branch)
        parent = before or await git.resolve(start_from or repo.default_branch)
        if parent is None:
            raise validation_failed("Commit", "from", "invalid", message=f"no branch or commit {start_from!r}")
        sha = await git.write_files(parent, files, message, person_of(author), person_of(author))
        if not await git.update_ref(f"refs/heads/{branch}", sha, before):
            raise GitHubError(409, f"Branch {branch} moved meanwhile; try again.")
        await refs_changed(sandbox, repo, {f"refs/heads/{branch}": (before or ZERO_SHA, sha)}, author)
    return sha


async def create_ref(sandbox: Sandbox, repo: Repo, actor: Account, ref: str, sha: str) -> None:
    """Create `ref` at commit `sha` (422 when the name is bad, the commit unknown, or the ref exists); push."""
    if not ref.startswith("refs/") or ref.count("/") < 2 or not valid_branch(ref.removeprefix("refs/")):
        raise GitHubError(422, "Reference name must start with 'refs/' and have at least two slashes.",
                          documentation_url="https://docs.github.com/rest/git/refs#create-a-reference")
    git = sandbox.repository(repo)
    async with sandbox.lock(repo):
        if len(sha) != 40 or await git.resolve(sha) != sha:
            raise GitHubError(422, "Object does not exist",
                              documentation_url="https://docs.github.com/rest/git/refs#create-a-reference")
        if not await git.update_ref(ref, sha, None):
            raise GitHubError(422, "Reference already exists",
                              documentation_url="https://docs.github.com/rest/git/refs#create-a-reference")
        await refs_changed(sandbox, repo, {ref: (ZERO_SHA, sha)}, actor)
