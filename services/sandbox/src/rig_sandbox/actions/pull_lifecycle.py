"""Opening, editing, closing and reopening pull requests."""

from __future__ import annotations

from rig_sandbox.actions.forks import drop_head, fetch_head, head_fork
from rig_sandbox.actions.issues import close_issue, edit_issue, reopen_issue
from rig_sandbox.actions.pulls import emit_pull, start_unknown_window
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, custom_validation, validation_failed
from rig_sandbox.records import Account, Issue, Pull, Repo, now_iso


async def _head(sandbox: Sandbox, repo: Repo, head: str, number: int) -> tuple[str, str | None, str | None]:
    """`branch`, `owner:branch` or `user:branch` of the user's fork → (branch, its sha, the fork's full name).

    A fork's head is copied into the base repository as `refs/pull/{number}/head`, as GitHub does.
    """
    owner, sep, branch = head.partition(":")
    if not sep or owner.lower() == repo.owner.lower():
        return (branch if sep else head), await sandbox.repository(repo).branch_sha(branch if sep else head), None
    fork = head_fork(sandbox, repo, owner)
    return branch, await fetch_head(sandbox, repo, fork, branch, number), fork.full_name


async def open_pull(sandbox: Sandbox, repo: Repo, author: Account, *, title: str, head: str, base: str,
                    body: str | None, draft: bool) -> Issue:
    """Open a pull request of `head` into `base`, refused (422) as GitHub refuses it; send `opened`."""
    number = repo.next_number
    head_ref, head_sha, head_repo = await _head(sandbox, repo, head, number)
    try:
        base_sha = await _refusal(sandbox, repo, title=title, head_ref=head_ref, head_sha=head_sha,
                                  head_repo=head_repo, base=base)
    except GitHubError:
        if head_repo is not None:
            await drop_head(sandbox, repo, number)
        raise
    repo.next_number += 1
    issue = Issue(number=number, id=sandbox.store.new_id(), title=title, body=body, user=author.login, is_pull=True)
    pull = Pull(number=number, id=sandbox.store.new_id(), head_ref=head_ref, head_sha=head_sha or "", base_ref=base,
                base_sha=base_sha, draft=draft, head_repo=head_repo)
    start_unknown_window(sandbox, repo, pull)
    repo.issues[number], repo.pulls[number] = issue, pull
    await emit_pull(sandbox, repo, number, "opened", author)
    await sandbox.store.save()
    return issue


async def _refusal(sandbox: Sandbox, repo: Repo, *, title: str, head_ref: str, head_sha: str | None,
                   head_repo: str | None, base: str) -> str:
    """The base's sha when GitHub would open the pull request, else its 422."""
    git = sandbox.repository(repo)
    base_sha = await git.branch_sha(base)
    if base_sha is None:
        raise validation_failed("PullRequest", "base", "invalid")
    if head_sha is None:
        raise validation_failed("PullRequest", "head", "invalid")
    if not title.strip():
        raise validation_failed("PullRequest", "title", "missing_field")
    if await git.is_ancestor(head_sha, base_sha):
        raise custom_validation("PullRequest", f"No commits between {base} and {head_ref}")
    for number, existing in repo.pulls.items():
        if (existing.head_ref, existing.head_repo, existing.base_ref) == (head_ref, head_repo, base) \
                and repo.issues[number].state == "open":
            owner = head_repo.split("/", 1)[0] if head_repo else repo.owner
            raise custom_validation("PullRequest", f"A pull request already exists for {owner}:{head_ref}.")
    return base_sha


async def update_pull(sandbox: Sandbox, repo: Repo, number: int, actor: Account, *, title: str | None,
                      body: str | None, body_given: bool, state: str | None, base: str | None) -> None:
    """Edit title, body or base, close or reopen; send the matching `pull_request` events."""
    issue, pull = sandbox.pull_or_404(repo, number)
    if state not in (None, "open", "closed"):
        raise validation_failed("PullRequest", "state", "invalid")
    if base is not None and base != pull.base_ref:
        if pull.merged or issue.state != "open":
            raise custom_validation("PullRequest", "Cannot change the base branch of a closed pull request.")
        base_sha = await sandbox.repository(repo).branch_sha(base)
        if base_sha is None:
            raise validation_failed("PullRequest", "base", "invalid")
        previous = pull.base_ref
        pull.base_ref, pull.base_sha = base, base_sha
        start_unknown_window(sandbox, repo, pull)
        issue.updated_at = now_iso()
        await emit_pull(sandbox, repo, number, "edited", actor, changes={"base": {"ref": {"from": previous}}})
    await edit_issue(sandbox, repo, issue, actor, title=title, body=body, body_given=body_given)
    if state == "closed":
        await close_issue(sandbox, repo, issue, actor, reason=None)
    elif state == "open":
        await reopen_issue(sandbox, repo, issue, actor)
    await sandbox.store.save()
