"""Forks, as GitHub keeps them: a user's copy of a repository.

A fork's branches can head pull requests into the original; the base repository then holds the head commit as
`refs/pull/N/head`, and a push to that branch sends `synchronize` on the original.
"""

from __future__ import annotations

from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, validation_failed
from rig_sandbox.records import Account, Pull, Repo


async def create_fork(sandbox: Sandbox, parent: Repo, owner: Account) -> Repo:
    """`owner`'s fork of `parent` with every branch as it is now; the existing fork when there is one already."""
    if owner.type == "Bot":
        raise GitHubError(403, "Resource not accessible by integration",
                          documentation_url="https://docs.github.com/rest/repos/forks#create-a-fork")
    if owner.login.lower() == parent.owner.lower():
        raise validation_failed("Repository", "owner", "invalid", message="a repository cannot be forked into its "
                                                                          "own account")
    existing = sandbox.store.repo(owner.login, parent.name)
    if existing is not None:
        if existing.fork_of != parent.full_name:
            raise validation_failed("Repository", "name", "already_exists")
        return existing
    fork = Repo(id=sandbox.store.new_id(), owner=owner.login, name=parent.name, default_branch=parent.default_branch,
                description=parent.description, fork_of=parent.full_name)
    git_dir = sandbox.git_dir(fork.owner, fork.name)
    await sandbox.git.init(git_dir, fork.default_branch)
    async with sandbox.lock(parent):
        await sandbox.git.run(git_dir, "fetch", "--quiet", "--no-tags", str(sandbox.git_dir(parent.owner, parent.name)),
                              "+refs/heads/*:refs/heads/*")
    sandbox.store.add_repo(fork)
    await sandbox.store.save()
    return fork


def head_fork(sandbox: Sandbox, base: Repo, head_owner: str) -> Repo:
    """The fork of `base` owned by `head_owner` (a PR's `head: "user:branch"`), else 422 as GitHub answers."""
    for repo in sandbox.store.state.repos.values():
        if repo.fork_of == base.full_name and repo.owner.lower() == head_owner.lower():
            return repo
    raise validation_failed("PullRequest", "head", "invalid")


async def fetch_head(sandbox: Sandbox, base: Repo, fork: Repo, branch: str, number: int) -> str | None:
    """Copy the fork's `branch` into the base repository as `refs/pull/{number}/head`; its sha (None: no branch)."""
    if await sandbox.repository(fork).branch_sha(branch) is None:
        return None
    await sandbox.git.run(sandbox.git_dir(base.owner, base.name), "fetch", "--quiet", "--no-tags",
                          str(sandbox.git_dir(fork.owner, fork.name)), f"+refs/heads/{branch}:refs/pull/{number}/head")
    return await sandbox.repository(base).resolve(f"refs/pull/{number}/head")


async def drop_head(sandbox: Sandbox, base: Repo, number: int) -> None:
    """Forget `refs/pull/{number}/head` (a PR that was refused after its head was fetched)."""
    await sandbox.git.run(sandbox.git_dir(base.owner, base.name), "update-ref", "-d", f"refs/pull/{number}/head",
                          check=False)


def fork_pulls(sandbox: Sandbox, fork: Repo, branch: str) -> list[tuple[Repo, Pull]]:
    """The open pull requests of `fork`'s parent whose head is `branch` of `fork`."""
    parent = sandbox.store.repo(*fork.fork_of.split("/", 1)) if fork.fork_of else None
    if parent is None:
        return []
    return [(parent, pull) for number, pull in parent.pulls.items()
            if pull.head_repo == fork.full_name and pull.head_ref == branch and parent.issues[number].state == "open"]
