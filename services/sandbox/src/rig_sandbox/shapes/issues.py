"""Issues, labels and comments in GitHub's shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rig_sandbox.records import Account, Comment, Issue, Label, Repo
from rig_sandbox.shapes.accounts import simple_user
from rig_sandbox.urls import Urls, node_id

AccountByLogin = Callable[[str], Account]
"""Finds the account of a login the sandbox has recorded."""


def label_json(urls: Urls, repo: Repo, label: Label) -> dict[str, Any]:
    """`label`."""
    return {"id": label.id, "node_id": node_id("Label", label.id),
            "url": urls.repo_api(repo.full_name, f"/labels/{label.name}"), "name": label.name,
            "description": label.description, "color": label.color, "default": False}


def issue_labels(urls: Urls, repo: Repo, issue: Issue) -> list[dict[str, Any]]:
    """The labels on an issue, in the order they were added."""
    return [label_json(urls, repo, repo.labels[name.lower()]) for name in issue.labels if name.lower() in repo.labels]


def author_association(repo: Repo, account: Account) -> str:
    """How `account` relates to the repository: its owner, a collaborator (Apps and sandbox users), or NONE.

    An outsider (a user created with `collaborator: false`) is `NONE`, as anyone who may comment on or review a
    public repository without being its member or collaborator is on GitHub.
    """
    if account.login.lower() == repo.owner.lower():
        return "OWNER"
    return "COLLABORATOR" if account.collaborator else "NONE"


def issue_json(urls: Urls, repo: Repo, issue: Issue, who: AccountByLogin,
               merged_at: str | None = None) -> dict[str, Any]:
    """`issue` (a pull request's issue side carries a `pull_request` object)."""
    full, number = repo.full_name, issue.number
    assignees = [simple_user(urls, who(login)) for login in issue.assignees]
    data: dict[str, Any] = {
        "id": issue.id, "node_id": node_id("Issue", issue.id), "url": urls.repo_api(full, f"/issues/{number}"),
        "repository_url": urls.repo_api(full), "labels_url": urls.repo_api(full, f"/issues/{number}/labels{{/name}}"),
        "comments_url": urls.repo_api(full, f"/issues/{number}/comments"),
        "events_url": urls.repo_api(full, f"/issues/{number}/events"),
        "html_url": urls.repo_html(full, f"/{'pull' if issue.is_pull else 'issues'}/{number}"),
        "number": number, "state": issue.state, "state_reason": issue.state_reason, "title": issue.title,
        "body": issue.body, "user": simple_user(urls, who(issue.user)), "labels": issue_labels(urls, repo, issue),
        "assignee": assignees[0] if assignees else None, "assignees": assignees, "milestone": None,
        "locked": issue.locked, "active_lock_reason": None, "comments": issue.comments,
        "closed_at": issue.closed_at, "created_at": issue.created_at, "updated_at": issue.updated_at,
        "closed_by": simple_user(urls, who(issue.closed_by)) if issue.closed_by else None,
        "author_association": author_association(repo, who(issue.user)),
        "timeline_url": urls.repo_api(full, f"/issues/{number}/timeline"), "performed_via_github_app": None,
        "reactions": _no_reactions(urls.repo_api(full, f"/issues/{number}/reactions")),
    }
    data["draft"] = False
    if issue.is_pull:
        data["pull_request"] = {
            "url": urls.repo_api(full, f"/pulls/{number}"), "html_url": urls.repo_html(full, f"/pull/{number}"),
            "diff_url": urls.repo_html(full, f"/pull/{number}.diff"),
            "patch_url": urls.repo_html(full, f"/pull/{number}.patch"), "merged_at": merged_at,
        }
    return data


def comment_json(urls: Urls, repo: Repo, comment: Comment, who: AccountByLogin) -> dict[str, Any]:
    """`issue-comment`."""
    full = repo.full_name
    return {
        "id": comment.id, "node_id": node_id("IssueComment", comment.id),
        "url": urls.repo_api(full, f"/issues/comments/{comment.id}"),
        "html_url": urls.repo_html(full, f"/issues/{comment.number}#issuecomment-{comment.id}"),
        "issue_url": urls.repo_api(full, f"/issues/{comment.number}"), "body": comment.body,
        "user": simple_user(urls, who(comment.user)), "created_at": comment.created_at,
        "updated_at": comment.updated_at, "author_association": author_association(repo, who(comment.user)),
        "performed_via_github_app": None,
        "reactions": _no_reactions(urls.repo_api(full, f"/issues/comments/{comment.id}/reactions")),
    }


def _no_reactions(url: str) -> dict[str, Any]:
    return {"url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "confused": 0, "heart": 0, "hooray": 0,
            "eyes": 0, "rocket": 0}
