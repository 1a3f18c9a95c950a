"""Opening, editing, closing and reopening pull requests."""

from __future__ import annotations

from rig_sandbox.actions.issues import close_issue, edit_issue, reopen_issue
from rig_sandbox.actions.pulls import emit_pull, start_unknown_window
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import custom_validation, validation_failed
from rig_sandbox.records import Account, Issue, Pull, Repo, now_iso


def _branch_name(repo: Repo, head: str) -> str:
    """`owner:branch` or `branch` → `branch` (only the repository's own branches: the sandbox has no forks)."""
    owner, sep, branch = head.partition(":")
    if sep and owner.lower() != repo.owner.lower():
        raise validation_failed("PullRequest", "head", "invalid")
    return branch if sep else head


async def open_pull(sandbox: Sandbox, repo: Repo, author: Account, *, title: str, head: str, base: str,
                    body: str | None, draft: bool) -> Issue:
    """Open a pull request of `head` into `base`, refused (422) as GitHub refuses it; send `opened`."""
    head_ref = _branch_name(repo, head)
    git = sandbox.repository(repo)
    base_sha = await git.branch_sha(base)
    if base_sha is None:
        raise validation_failed("PullRequest", "base", "invalid")
    head_sha = await git.branch_sha(head_ref)
    if head_sha is None:
        raise validation_failed("PullRequest", "head", "invalid")
    if not title.strip():
        raise validation_failed("PullRequest", "title", "missing_field")
    if await git.is_ancestor(head_sha, base_sha):
        raise custom_validation("PullRequest", f"No commits between {base} and {head_ref}")
    for number, existing in repo.pulls.items():
        if existing.head_ref == head_ref and existing.base_ref == base and repo.issues[number].state == "open":
            raise custom_validation("PullRequest", f"A pull request already exists for {repo.owner}:{head_ref}.")
    number = repo.next_number
    repo.next_number += 1
    issue = Issue(number=number, id=sandbox.store.new_id(), title=title, body=body, user=author.login, is_pull=True)
    pull = Pull(number=number, id=sandbox.store.new_id(), head_ref=head_ref, head_sha=head_sha, base_ref=base,
                base_sha=base_sha, draft=draft)
    start_unknown_window(sandbox, repo, pull)
    repo.issues[number], repo.pulls[number] = issue, pull
    await emit_pull(sandbox, repo, number, "opened", author)
    await sandbox.store.save()
    return issue


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
