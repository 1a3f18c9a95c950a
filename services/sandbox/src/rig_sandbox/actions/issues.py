"""Issues, labels and comments: open, edit, close, label, comment; each emits what GitHub would."""

from __future__ import annotations

from typing import Any

from rig_sandbox.actions.pulls import emit_pull
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, validation_failed
from rig_sandbox.records import Account, Comment, Issue, Label, Repo, now_iso
from rig_sandbox.shapes.issues import comment_json, issue_json, label_json

STATE_REASONS = {"completed", "not_planned", "reopened", "duplicate"}


def issue_payload(sandbox: Sandbox, repo: Repo, issue: Issue) -> dict[str, Any]:
    """The issue as GitHub shows it (with `pull_request` for a pull request's issue side)."""
    pull = repo.pulls.get(issue.number)
    return issue_json(sandbox.urls, repo, issue, sandbox.who, merged_at=pull.merged_at if pull else None)


async def emit_issue(sandbox: Sandbox, repo: Repo, issue: Issue, action: str, sender: Account,
                     **extra: Any) -> None:
    """Send an `issues` event, or a `pull_request` event when the issue is a pull request's."""
    if issue.is_pull:
        await emit_pull(sandbox, repo, issue.number, action, sender, **extra)
        return
    sandbox.emit("issues", repo, sender, {"action": action, "issue": issue_payload(sandbox, repo, issue), **extra})


def label_named(sandbox: Sandbox, repo: Repo, name: str) -> Label:
    """The repository's label `name`, created (grey, as GitHub does) when it does not exist yet."""
    label = repo.labels.get(name.lower())
    if label is None:
        label = Label(id=sandbox.store.new_id(), name=name)
        repo.labels[name.lower()] = label
    return label


async def open_issue(sandbox: Sandbox, repo: Repo, author: Account, title: str, body: str | None = None,
                     labels: list[str] | None = None, assignees: list[str] | None = None) -> Issue:
    """Open issue number N+1; send `issues.opened`, then `issues.labeled` per label."""
    if not title.strip():
        raise validation_failed("Issue", "title", "missing_field")
    issue = Issue(number=repo.next_number, id=sandbox.store.new_id(), title=title, body=body, user=author.login,
                  assignees=[sandbox.who(login).login for login in assignees or []])
    repo.next_number += 1
    repo.issues[issue.number] = issue
    await emit_issue(sandbox, repo, issue, "opened", author)
    await add_labels(sandbox, repo, issue, author, labels or [])
    await sandbox.store.save()
    return issue


async def add_labels(sandbox: Sandbox, repo: Repo, issue: Issue, actor: Account, names: list[str]) -> None:
    """Put labels on an issue (creating unknown ones); one `labeled` event per label it did not have."""
    for name in names:
        if not name.strip():
            raise validation_failed("Label", "name", "missing_field")
        label = label_named(sandbox, repo, name.strip())
        if label.name.lower() in (existing.lower() for existing in issue.labels):
            continue
        issue.labels.append(label.name)
        issue.updated_at = now_iso()
        await emit_issue(sandbox, repo, issue, "labeled", actor, label=label_json(sandbox.urls, repo, label))
    await sandbox.store.save()


async def remove_label(sandbox: Sandbox, repo: Repo, issue: Issue, actor: Account, name: str) -> None:
    """Take a label off an issue (404 `Label does not exist` when it is not on it); send `unlabeled`."""
    present = next((existing for existing in issue.labels if existing.lower() == name.lower()), None)
    if present is None:
        raise GitHubError(404, "Label does not exist",
                          documentation_url="https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue")
    issue.labels.remove(present)
    issue.updated_at = now_iso()
    label = repo.labels[present.lower()]
    await emit_issue(sandbox, repo, issue, "unlabeled", actor, label=label_json(sandbox.urls, repo, label))
    await sandbox.store.save()


async def set_labels(sandbox: Sandbox, repo: Repo, issue: Issue, actor: Account, names: list[str]) -> None:
    """Make an issue's labels exactly `names` (labeled/unlabeled events for the difference)."""
    wanted = {name.lower() for name in names}
    for present in [name for name in issue.labels if name.lower() not in wanted]:
        await remove_label(sandbox, repo, issue, actor, present)
    await add_labels(sandbox, repo, issue, actor, names)


async def close_issue(sandbox: Sandbox, repo: Repo, issue: Issue, actor: Account, reason: str | None) -> None:
    """Close an open issue with `state_reason` `reason` (None for a pull request); send `closed`.

    An issue already closed stays as it is, and nothing is sent.
    """
    if issue.state == "closed":
        return
    issue.state, issue.state_reason, issue.closed_at, issue.closed_by = "closed", reason, now_iso(), actor.login
    issue.updated_at = issue.closed_at
    await emit_issue(sandbox, repo, issue, "closed", actor)
    await sandbox.store.save()


async def reopen_issue(sandbox: Sandbox, repo: Repo, issue: Issue, actor: Account) -> None:
    """Reopen a closed issue; send `reopened`."""
    if issue.state == "open":
        return
    if repo.pulls.get(issue.number) and repo.pulls[issue.number].merged:
        raise validation_failed("PullRequest", "state", "invalid", message="Cannot reopen a merged pull request")
    issue.state, issue.closed_at, issue.closed_by = "open", None, None
    issue.state_reason = None if issue.is_pull else "reopened"
    issue.updated_at = now_iso()
    await emit_issue(sandbox, repo, issue, "reopened", actor)
    await sandbox.store.save()


async def edit_issue(sandbox: Sandbox, repo: Repo, issue: Issue, actor: Account, *, title: str | None,
                     body: str | None, body_given: bool) -> None:
    """Change title and body; send `edited` with the old values under `changes`."""
    changes: dict[str, Any] = {}
    if title is not None and title != issue.title:
        if not title.strip():
            raise validation_failed("Issue", "title", "missing_field")
        changes["title"] = {"from": issue.title}
        issue.title = title
    if body_given and body != issue.body:
        changes["body"] = {"from": issue.body}
        issue.body = body
    if changes:
        issue.updated_at = now_iso()
        await emit_issue(sandbox, repo, issue, "edited", actor, changes=changes)
        await sandbox.store.save()


async def add_comment(sandbox: Sandbox, repo: Repo, issue: Issue, author: Account, body: str) -> dict[str, Any]:
    """Comment on an issue or pull request; send `issue_comment.created`; return the comment as GitHub shows it."""
    if not body.strip():
        raise validation_failed("IssueComment", "body", "missing_field")
    comment = Comment(id=sandbox.store.new_id(), number=issue.number, user=author.login, body=body)
    repo.comments.append(comment)
    issue.comments += 1
    issue.updated_at = comment.created_at
    shown = comment_json(sandbox.urls, repo, comment, sandbox.who)
    sandbox.emit("issue_comment", repo, author,
                 {"action": "created", "issue": issue_payload(sandbox, repo, issue), "comment": shown})
    await sandbox.store.save()
    return shown
