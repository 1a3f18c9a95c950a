"""Merging a pull request as GitHub does.

One real commit on the base (squash or merge), refused with GitHub's status codes, followed by `push`,
`pull_request.closed` (merged) and the closing of the issues the pull request names.
"""

from __future__ import annotations

from typing import Any

from rig_sandbox.actions.issues import close_issue
from rig_sandbox.actions.pulls import compute_gate, emit_pull
from rig_sandbox.actions.pushes import refs_changed
from rig_sandbox.actions.repos import person_of
from rig_sandbox.closing import closing_references
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, validation_failed
from rig_sandbox.git.objects import Person
from rig_sandbox.records import Account, Issue, Pull, Repo, now_iso

MERGE_DOCS = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"
GITHUB_COMMITTER = Person("GitHub", "noreply@github.com")
"""Who commits merges made on the website and through the API."""


async def merge_pull(sandbox: Sandbox, repo: Repo, number: int, actor: Account, *, sha: str | None,
                     method: str | None, title: str | None, message: str | None) -> dict[str, Any]:
    """Merge pull request `number`; return GitHub's `{sha, merged, message}` or raise its 405/409/422."""
    issue, pull = sandbox.pull_or_404(repo, number)
    method = method or "merge"
    if method not in ("merge", "squash", "rebase"):
        raise validation_failed("PullRequest", "merge_method", "invalid")
    git = sandbox.repository(repo)
    async with sandbox.lock(repo):
        if pull.merged or issue.state != "open":
            raise GitHubError(405, "Pull Request is not mergeable", documentation_url=MERGE_DOCS)
        if sha is not None and sha != pull.head_sha:
            raise GitHubError(409, "Head branch was modified. Review and try the merge again.",
                              documentation_url=MERGE_DOCS)
        if method == "rebase":
            raise GitHubError(405, "Rebase merges are not allowed on this repository.", documentation_url=MERGE_DOCS)
        gate = await compute_gate(sandbox, repo, issue, pull)
        if gate.verdict.reason is not None or gate.merge is None or gate.base_tip is None:
            raise GitHubError(405, gate.verdict.reason or "Pull Request is not mergeable",
                              documentation_url=MERGE_DOCS)
        base_tip = gate.base_tip
        commit_title, body = await _message(sandbox, repo, issue, pull, base_tip, method, title, message)
        parents = [base_tip] if method == "squash" else [base_tip, pull.head_sha]
        author = person_of(sandbox.who(issue.user)) if method == "squash" else person_of(actor)
        new = await git.commit_tree(gate.merge.tree, parents, f"{commit_title}\n\n{body}".rstrip() + "\n", author,
                                    GITHUB_COMMITTER)
        if not await git.update_ref(f"refs/heads/{pull.base_ref}", new, base_tip):
            raise GitHubError(409, "Base branch was modified. Review and try the merge again.",
                              documentation_url=MERGE_DOCS)
        stamp = now_iso()
        pull.merged, pull.merged_at, pull.merged_by, pull.merge_commit_sha = True, stamp, actor.login, new
        pull.base_sha = base_tip
        issue.state, issue.closed_at, issue.closed_by, issue.updated_at = "closed", stamp, actor.login, stamp
        await refs_changed(sandbox, repo, {f"refs/heads/{pull.base_ref}": (base_tip, new)}, actor)
        await emit_pull(sandbox, repo, number, "closed", actor)
        if pull.base_ref == repo.default_branch:
            await _close_referenced(sandbox, repo, issue, actor)
        await sandbox.store.save()
    return {"sha": new, "merged": True, "message": "Pull Request successfully merged"}


async def _message(sandbox: Sandbox, repo: Repo, issue: Issue, pull: Pull, base_tip: str, method: str,
                   title: str | None, message: str | None) -> tuple[str, str]:
    """GitHub's default commit title and message for the merge method, unless given."""
    if method == "squash":
        default_body = ""
        if message is None:
            commits = await sandbox.repository(repo).commits_between(base_tip, pull.head_sha)
            default_body = "\n\n".join(f"* {commit.message}" for commit in commits)
        return title or f"{issue.title} (#{issue.number})", message if message is not None else default_body
    default_title = f"Merge pull request #{issue.number} from {repo.owner}/{pull.head_ref}"
    return title or default_title, message if message is not None else issue.title


async def _close_referenced(sandbox: Sandbox, repo: Repo, pull_issue: Issue, actor: Account) -> None:
    """Close, as completed, every issue the pull request's body names with a closing keyword."""
    for reference in closing_references(pull_issue.body):
        target: Repo | None = repo
        if reference.owner and reference.repo:
            target = sandbox.store.repo(reference.owner, reference.repo)
        if target is None:
            continue
        issue = target.issues.get(reference.number)
        if issue is not None and not issue.is_pull:
            await close_issue(sandbox, target, issue, actor, reason="completed")
