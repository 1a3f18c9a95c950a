"""Pull request reviews, with GitHub's rule that nobody approves (or requests changes on) their own."""

from __future__ import annotations

from typing import Any

from rig_sandbox.actions.pulls import simple_json
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, validation_failed
from rig_sandbox.records import Account, Repo, Review, now_iso
from rig_sandbox.shapes.pulls import review_json

REVIEW_DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
_STATES = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}


def _refuse(reason: str) -> GitHubError:
    return GitHubError(422, "Unprocessable Entity", errors=[reason], documentation_url=REVIEW_DOCS)


async def create_review(sandbox: Sandbox, repo: Repo, number: int, reviewer: Account, *, event: str | None,
                        body: str | None, commit_id: str | None) -> dict[str, Any]:
    """Submit a review (or keep it pending without an event); send `pull_request_review.submitted`."""
    issue, pull = sandbox.pull_or_404(repo, number)
    if event not in (None, "", *_STATES):
        raise validation_failed("PullRequestReview", "event", "invalid")
    own = reviewer.login.lower() == issue.user.lower()
    if event == "APPROVE" and own:
        raise _refuse("Can not approve your own pull request")
    if event == "REQUEST_CHANGES" and own:
        raise _refuse("Can not request changes on your own pull request")
    if event in ("REQUEST_CHANGES", "COMMENT") and not (body or "").strip():
        raise _refuse(f"Review body is required when the event is {event}")
    if commit_id is not None and await sandbox.repository(repo).resolve(commit_id) is None:
        raise validation_failed("PullRequestReview", "commit_id", "invalid")
    state = _STATES.get(event or "", "PENDING")
    review = Review(id=sandbox.store.new_id(), number=number, user=reviewer.login, body=body or "",
                    state=state, commit_id=commit_id or pull.head_sha,
                    submitted_at=now_iso() if state != "PENDING" else None)
    repo.reviews.append(review)
    shown = review_json(sandbox.urls, repo, review, sandbox.who)
    if state != "PENDING":
        sandbox.emit("pull_request_review", repo, reviewer,
                     {"action": "submitted", "review": shown, "pull_request": simple_json(sandbox, repo, issue, pull)})
    await sandbox.store.save()
    return shown
