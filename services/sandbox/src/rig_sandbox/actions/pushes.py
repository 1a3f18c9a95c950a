"""What follows a ref moving: a `push` event, and pull requests brought up to date.

Refs move by a git push, a merge, a commit through the control API, or a ref made through the API; a pull
request whose head moved gets `synchronize`, and one whose base moved computes its mergeability anew.
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from rig_sandbox.actions.forks import fetch_head, fork_pulls
from rig_sandbox.actions.pulls import emit_pull, start_unknown_window
from rig_sandbox.context import Sandbox
from rig_sandbox.git.objects import CommitInfo
from rig_sandbox.git.repository import GitRepository
from rig_sandbox.git.runner import ZERO_SHA
from rig_sandbox.records import Account, Repo, now_iso
from rig_sandbox.shapes.commits import git_person, login_in_email, noreply_email

PUSH_COMMITS_MAX = 20
"""How many commits a push payload lists (the newest; GitHub caps the list too)."""

RefChanges = dict[str, tuple[str, str]]
"""Moved refs: full ref name → (sha before, sha after); the zero sha stands for "did not exist"."""


async def refs_changed(sandbox: Sandbox, repo: Repo, changes: RefChanges, pusher: Account) -> None:
    """Send one `push` per moved ref and bring the pull requests on moved branches up to date."""
    if not changes:
        return
    git = sandbox.repository(repo)
    repo.pushed_at = now_iso()
    refs_now = await git.refs()
    for ref, (before, after) in changes.items():
        others = [name for name in refs_now if name != ref]
        if repo.fork_of is None:  # the Apps are installed on the base repositories, never on a user's fork
            payload = await _push_payload(sandbox, repo, git, ref, before, after, pusher, others)
            sandbox.emit("push", repo, pusher, payload, repository=_push_repository(sandbox, repo))
        if ref.startswith("refs/heads/"):
            await _follow_branch(sandbox, repo, ref.removeprefix("refs/heads/"), after, pusher)
            await _follow_fork_branch(sandbox, repo, ref.removeprefix("refs/heads/"), after, pusher)
    await sandbox.store.save()


async def _follow_branch(sandbox: Sandbox, repo: Repo, branch: str, after: str, pusher: Account) -> None:
    for number, pull in repo.pulls.items():
        if repo.issues[number].state != "open" or after == ZERO_SHA:
            continue
        if pull.head_ref == branch and pull.head_repo is None and pull.head_sha != after:
            previous, pull.head_sha = pull.head_sha, after
            start_unknown_window(sandbox, repo, pull)
            repo.issues[number].updated_at = now_iso()
            await emit_pull(sandbox, repo, number, "synchronize", pusher, before=previous, after=after)
        if pull.base_ref == branch and pull.base_sha != after:
            pull.base_sha = after
            start_unknown_window(sandbox, repo, pull)


async def _follow_fork_branch(sandbox: Sandbox, fork: Repo, branch: str, after: str, pusher: Account) -> None:
    """A push to a fork's branch that heads pull requests of its parent: `synchronize` on the parent."""
    if after == ZERO_SHA:
        return
    for parent, pull in fork_pulls(sandbox, fork, branch):
        head = await fetch_head(sandbox, parent, fork, branch, pull.number)
        if head is None or head == pull.head_sha:
            continue
        previous, pull.head_sha = pull.head_sha, head
        start_unknown_window(sandbox, parent, pull)
        parent.issues[pull.number].updated_at = now_iso()
        await emit_pull(sandbox, parent, pull.number, "synchronize", pusher, before=previous, after=head)


async def _push_payload(sandbox: Sandbox, repo: Repo, git: GitRepository, ref: str, before: str, after: str,
                        pusher: Account, others: list[str]) -> dict[str, Any]:
    created, deleted = before == ZERO_SHA, after == ZERO_SHA
    commits: list[CommitInfo] = []
    if not deleted:
        commits = await (git.commits_only_in(after, others) if created else git.commits_between(before, after))
    forced = not created and not deleted and not await git.is_ancestor(before, after)
    shown = [await _commit_payload(sandbox, repo, git, commit) for commit in commits[-PUSH_COMMITS_MAX:]]
    head = None
    if not deleted:
        head = shown[-1] if shown and shown[-1]["id"] == after else \
            await _commit_payload(sandbox, repo, git, await git.commit(after))
    name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    compare = f"compare/{name}" if created else f"compare/{before[:12]}...{after[:12]}"
    return {"ref": ref, "before": before, "after": after, "created": created, "deleted": deleted, "forced": forced,
            "base_ref": None, "compare": sandbox.urls.repo_html(repo.full_name, f"/{compare}"), "commits": shown,
            "head_commit": head, "pusher": {"name": pusher.login, "email": noreply_email(pusher)}}


async def _commit_payload(sandbox: Sandbox, repo: Repo, git: GitRepository, commit: CommitInfo) -> dict[str, Any]:
    added, removed, modified = await git.touched(commit.sha)

    def person(name: str, email: str) -> dict[str, Any]:
        login = login_in_email(email)
        return {"name": name, "email": email, **({"username": login} if login else {})}

    return {"id": commit.sha, "tree_id": commit.tree, "distinct": True, "message": commit.message,
            "timestamp": git_person(commit.committer)["date"],
            "url": sandbox.urls.repo_html(repo.full_name, f"/commit/{commit.sha}"),
            "author": person(commit.author.name, commit.author.email),
            "committer": person(commit.committer.name, commit.committer.email),
            "added": added, "removed": removed, "modified": modified}


def _push_repository(sandbox: Sandbox, repo: Repo) -> dict[str, Any]:
    """The repository as push events carry it: times as epoch seconds, the owner with name and e-mail."""
    data = sandbox.repo_json(repo)
    owner = sandbox.owner_of(repo)
    data["owner"] = {"name": owner.login, "email": None, **data["owner"]}
    data["created_at"] = _epoch(repo.created_at)
    data["pushed_at"] = int(time.time())
    data["stargazers"] = 0
    data["master_branch"] = repo.default_branch
    return data


def _epoch(iso: str) -> int:
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))
