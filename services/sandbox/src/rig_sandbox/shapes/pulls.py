"""Pull requests and reviews in GitHub's shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rig_sandbox.records import Account, Issue, Pull, Repo, Review
from rig_sandbox.shapes.accounts import simple_user
from rig_sandbox.shapes.issues import AccountByLogin, author_association, issue_labels
from rig_sandbox.urls import Urls, node_id


@dataclass(frozen=True, slots=True)
class PullFacts:
    """What git says about a pull request when it is shown in full."""

    mergeable: bool | None
    mergeable_state: str
    commits: int
    additions: int
    deletions: int
    changed_files: int


@dataclass(frozen=True, slots=True)
class HeadSide:
    """Where a pull request's head lives when it is not the base repository: a fork, shaped, and its owner."""

    repository: dict[str, Any]
    owner: Account


def pull_simple_json(urls: Urls, repo: Repo, repository: dict[str, Any], owner: Account, issue: Issue, pull: Pull,
                     who: AccountByLogin, fork: HeadSide | None = None) -> dict[str, Any]:
    """`pull-request-simple`: how pull requests are listed (`head.repo` is the fork for a PR from a fork)."""
    full, number = repo.full_name, issue.number
    api, html = urls.repo_api(full, f"/pulls/{number}"), urls.repo_html(full, f"/pull/{number}")
    assignees = [simple_user(urls, who(login)) for login in issue.assignees]

    def side(ref: str, sha: str, where: HeadSide | None = None) -> dict[str, Any]:
        holder, shaped = (where.owner, where.repository) if where else (owner, repository)
        return {"label": f"{holder.login}:{ref}", "ref": ref, "sha": sha, "user": simple_user(urls, holder),
                "repo": shaped}

    return {
        "url": api, "id": pull.id, "node_id": node_id("PullRequest", pull.id), "html_url": html,
        "diff_url": f"{html}.diff", "patch_url": f"{html}.patch", "issue_url": urls.repo_api(full, f"/issues/{number}"),
        "commits_url": f"{api}/commits", "review_comments_url": f"{api}/comments",
        "review_comment_url": urls.repo_api(full, "/pulls/comments{/number}"),
        "comments_url": urls.repo_api(full, f"/issues/{number}/comments"),
        "statuses_url": urls.repo_api(full, f"/statuses/{pull.head_sha}"), "number": number, "state": issue.state,
        "locked": issue.locked, "title": issue.title, "user": simple_user(urls, who(issue.user)), "body": issue.body,
        "labels": issue_labels(urls, repo, issue), "milestone": None, "active_lock_reason": None,
        "created_at": issue.created_at, "updated_at": issue.updated_at, "closed_at": issue.closed_at,
        "merged_at": pull.merged_at, "merge_commit_sha": pull.merge_commit_sha,
        "assignee": assignees[0] if assignees else None, "assignees": assignees, "requested_reviewers": [],
        "requested_teams": [], "head": side(pull.head_ref, pull.head_sha, fork),
        "base": side(pull.base_ref, pull.base_sha),
        "_links": {name: {"href": href} for name, href in {
            "self": api, "html": html, "issue": urls.repo_api(full, f"/issues/{number}"),
            "comments": urls.repo_api(full, f"/issues/{number}/comments"), "review_comments": f"{api}/comments",
            "review_comment": urls.repo_api(full, "/pulls/comments{/number}"), "commits": f"{api}/commits",
            "statuses": urls.repo_api(full, f"/statuses/{pull.head_sha}")}.items()},
        "author_association": author_association(repo, who(issue.user)), "auto_merge": None, "draft": pull.draft,
    }


def pull_json(urls: Urls, repo: Repo, repository: dict[str, Any], owner: Account, issue: Issue, pull: Pull,
              facts: PullFacts, who: AccountByLogin, fork: HeadSide | None = None) -> dict[str, Any]:
    """`pull-request`: one pull request in full, with what git says about it."""
    data = pull_simple_json(urls, repo, repository, owner, issue, pull, who, fork)
    data |= {
        "merged": pull.merged, "mergeable": facts.mergeable, "rebaseable": facts.mergeable,
        "mergeable_state": facts.mergeable_state,
        "merged_by": simple_user(urls, who(pull.merged_by)) if pull.merged_by else None,
        "comments": issue.comments, "review_comments": 0, "maintainer_can_modify": False, "commits": facts.commits,
        "additions": facts.additions, "deletions": facts.deletions, "changed_files": facts.changed_files,
    }
    return data


def review_json(urls: Urls, repo: Repo, review: Review, who: AccountByLogin) -> dict[str, Any]:
    """`pull-request-review`."""
    full = repo.full_name
    html = urls.repo_html(full, f"/pull/{review.number}#pullrequestreview-{review.id}")
    api = urls.repo_api(full, f"/pulls/{review.number}")
    data: dict[str, Any] = {
        "id": review.id, "node_id": node_id("PullRequestReview", review.id),
        "user": simple_user(urls, who(review.user)),
        "body": review.body, "state": review.state, "html_url": html, "pull_request_url": api,
        "_links": {"html": {"href": html}, "pull_request": {"href": api}}, "commit_id": review.commit_id,
        "author_association": author_association(repo, who(review.user)),
    }
    if review.submitted_at:
        data["submitted_at"] = review.submitted_at
    return data
