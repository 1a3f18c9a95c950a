"""Transitions driven by the item's pull request: opened, pushed, reviewed, merged or blocked from merging."""

from __future__ import annotations

from dataclasses import replace

from rig_contracts.catalogue import (
    MergeBlockedEvent,
    MergedEvent,
    MergeRequestedEvent,
    PrClosedEvent,
    PrCreatedEvent,
    PrUpdatedEvent,
    ReviewAssignedEvent,
    ReviewDisputedEvent,
    ReviewPassedEvent,
)
from rig_contracts.payloads import ReviewDisputed, ReviewPassed
from rig_workflow import domain_adoption as adoption
from rig_workflow.domain_model import DEVELOPING, FINAL, HALTED, MERGE_PHASE, REVIEWING, Policy, State, WorkItem
from rig_workflow.domain_steps import Outcome, assign_dev, escalate, finish, review, unexpected

FIXABLE = frozenset({"conflict", "behind", "checks failed"})
"""Merge blockers the dev agent can fix by rebasing or fixing the code."""


def _other_pr(item: WorkItem, pr_number: int) -> bool:
    return pr_number in item.foreign_prs or (item.pr_number is not None and item.pr_number != pr_number)


def pr_created(item: WorkItem, event: PrCreatedEvent, policy: Policy) -> Outcome:
    """A PR linked to the issue was opened: have its head reviewed."""
    data = event.data
    if (why := adoption.refusal(item, data.pr_number, data.repo, data.head_repo, data.author, policy)) is not None:
        return adoption.refuse(item, data.pr_number, why)
    if _other_pr(item, data.pr_number):
        return unexpected(item, f"second PR #{data.pr_number} while #{item.pr_number} is the item's")
    # A push delivered before the PR's creation already moved the head on; keep the newer one.
    head = item.head_sha or data.head_sha
    item = replace(item, pr_number=data.pr_number, branch=data.head_ref or item.branch, head_sha=head)
    if item.state in DEVELOPING:
        return review(item, policy, event.key, State.PR_OPEN)
    return unexpected(item, f"PR opened while {item.state}")


def review_assigned(item: WorkItem, event: ReviewAssignedEvent) -> Outcome:
    """Our own review assignment came back on the stream: the PR is in review."""
    if item.state is State.PR_OPEN and event.data.head_sha == item.head_sha:
        return Outcome(replace(item, state=State.IN_REVIEW))
    return Outcome(item)


def _push_elsewhere(item: WorkItem, event: PrUpdatedEvent, policy: Policy) -> Outcome | None:
    """A push to a PR that is not (and cannot become) the item's, recorded; None for the item's PR."""
    data = event.data
    if _other_pr(item, data.pr_number):
        return unexpected(item, f"push to PR #{data.pr_number}, not the item's #{item.pr_number}")
    if item.pr_number is None:  # pushed before its PR_CREATED arrived: adopted on the same terms
        why = adoption.refusal(item, data.pr_number, data.repo, data.head_repo, data.author, policy)
        if why is not None:
            return adoption.refuse(item, data.pr_number, why)
    return None


def pr_updated(item: WorkItem, event: PrUpdatedEvent, policy: Policy) -> Outcome:
    """A new head was pushed: the approval of the old one no longer holds; review the new one once."""
    data = event.data
    if (refused := _push_elsewhere(item, event, policy)) is not None:
        return refused
    superseded = item.superseded_heads | ({data.before_sha} if data.before_sha else set())
    item = replace(item, pr_number=data.pr_number, superseded_heads=superseded)
    if data.head_sha in superseded:
        return unexpected(item, f"push of {data.head_sha[:12]}, already replaced by a later push")
    if data.head_sha == item.head_sha:
        return Outcome(item)
    approved = item.approved_sha if item.approved_sha == data.head_sha else None
    item = replace(item, head_sha=data.head_sha, approved_sha=approved)
    if item.state in DEVELOPING | REVIEWING | MERGE_PHASE:
        return review(item, policy, event.key, State.IN_REVIEW)
    if item.state is State.NEW:
        return unexpected(item, "push before the issue was approved")
    return Outcome(item)


def _review_of_current_head(item: WorkItem, pr_number: int, commit_id: str) -> str | None:
    """Why a review does not count for the item's PR as it stands, or None when it does."""
    if _other_pr(item, pr_number):
        return f"review of PR #{pr_number}, not the item's #{item.pr_number}"
    if commit_id in item.superseded_heads:
        return f"review of {commit_id[:12]}, a head since replaced"
    if item.head_sha and commit_id != item.head_sha:
        return f"review of {commit_id[:12]}, not the head {item.head_sha[:12]}"
    return None


def _untrusted(data: ReviewPassed | ReviewDisputed, policy: Policy) -> str | None:
    """Why the review's author may not approve or dispute (recorded, never routed), or None when they may."""
    return policy.reviewers.refusal(data.reviewer, data.author_association, data.pr_author)


def review_passed(item: WorkItem, event: ReviewPassedEvent, policy: Policy) -> Outcome:
    """An approving review: the head it approves may be merged (the merge is pinned to that SHA)."""
    data = event.data
    if (refused := _untrusted(data, policy)) is not None:
        return unexpected(item, refused)
    if data.commit_id in item.superseded_heads or _other_pr(item, data.pr_number):
        return unexpected(item, _review_of_current_head(item, data.pr_number, data.commit_id) or "stale review")
    # Kept even when the head is not known yet: a push of this SHA delivered later finds it approved.
    item = replace(item, approved_sha=data.commit_id)
    why = _review_of_current_head(item, data.pr_number, data.commit_id)
    if why is not None:
        return unexpected(item, why)
    if item.state in REVIEWING:
        return review(item, policy, event.key, State.IN_REVIEW)
    if item.state in MERGE_PHASE:
        return Outcome(item)  # a second approval of the head already on its way to the base branch
    return unexpected(item, f"approval while {item.state}")


def review_disputed(item: WorkItem, event: ReviewDisputedEvent, policy: Policy) -> Outcome:
    """Changes requested: back to the same dev agent on the same branch, until the rounds run out."""
    data = event.data
    if (refused := _untrusted(data, policy)) is not None:
        return unexpected(item, refused)  # an outsider's text never becomes Dev-E's instructions nor uses a round
    why = _review_of_current_head(item, data.pr_number, data.commit_id)
    if why is not None:
        return unexpected(item, why)
    if item.state not in REVIEWING:
        return unexpected(item, f"changes requested while {item.state}")
    item = replace(item, disputes=item.disputes + 1, approved_sha=None)
    if item.disputes >= policy.max_review_rounds:
        reason = f"review disputed {item.disputes} times (maxReviewRounds {policy.max_review_rounds})"
        return escalate(item, event.key, reason)
    return assign_dev(item, policy, event.key, State.CHANGES_REQUESTED, reason="changes requested",
                      feedback=data.feedback)


def merge_requested(item: WorkItem, event: MergeRequestedEvent) -> Outcome:
    """The merger accepted the merge of the approved head."""
    if item.state is State.APPROVED_FOR_MERGE and event.data.head_sha == item.head_sha:
        return Outcome(replace(item, state=State.MERGING))
    if item.state is State.MERGING and event.data.head_sha == item.head_sha:
        return Outcome(item)
    return unexpected(item, f"merge of {event.data.head_sha[:12]} requested while {item.state}")


def merge_blocked(item: WorkItem, event: MergeBlockedEvent, policy: Policy) -> Outcome:
    """The merger will not merge now: review again, have the dev agent fix it, wait, or escalate."""
    data = event.data
    if item.state not in MERGE_PHASE:
        return unexpected(item, f"merge blocked ({data.reason}) while {item.state}")
    if data.reason == "head moved":
        return review(replace(item, approved_sha=None), policy, event.key, State.IN_REVIEW)
    if data.head_sha and data.head_sha != item.head_sha:
        return unexpected(item, f"merge blocked at {data.head_sha[:12]}, not the head {item.head_sha[:12]}")
    if data.reason in FIXABLE:
        return _fix(item, event, policy)
    if data.reason == "not mergeable":
        return escalate(item, event.key, f"PR #{item.pr_number} cannot be merged: {data.detail or 'not mergeable'}")
    # A label (do-not-merge) or a closed PR: wait for the label to go or for PR_CLOSED to say more.
    return Outcome(replace(item, state=State.APPROVED_FOR_MERGE))


def _fix(item: WorkItem, event: MergeBlockedEvent, policy: Policy) -> Outcome:
    """Back to the dev agent to rebase or fix, with what failed; escalated once `maxFixAttempts` are used up."""
    data = event.data
    item = replace(item, fix_attempts=item.fix_attempts + 1)
    if item.fix_attempts > policy.max_fix_attempts:
        reason = f"merge still blocked ({data.reason}) after {policy.max_fix_attempts} fixes (maxFixAttempts)"
        return escalate(item, event.key, reason)
    feedback = f"{data.reason}: {data.detail}" if data.detail else data.reason
    return assign_dev(item, policy, event.key, State.IN_PROGRESS, reason=data.reason, feedback=feedback)


def merged(item: WorkItem, event: MergedEvent) -> Outcome:
    """The PR merged: done if the issue is already closed as completed, else wait for the close."""
    data = event.data
    if item.state in FINAL:
        return unexpected(item, f"PR #{data.pr_number} merged while {item.state}")
    before = item.state
    item = replace(item, merged=True, merge_sha=data.merge_sha, pr_number=data.pr_number, head_sha=data.sha)
    outcome = finish(item, event.key) if item.closed_completed else Outcome(replace(item, state=State.MERGED))
    if before in MERGE_PHASE or before is State.CLOSED:
        return outcome
    return Outcome(outcome.item, outcome.commands, f"PR #{data.pr_number} merged while {before}")


def pr_closed(item: WorkItem, event: PrClosedEvent) -> Outcome:
    """The item's PR closed without merging: people have to say what next."""
    if _other_pr(item, event.data.pr_number) or item.pr_number is None:
        return unexpected(item, f"PR #{event.data.pr_number} closed; it is not the item's")
    if item.state in HALTED:
        return Outcome(item)
    return escalate(item, event.key, f"PR #{item.pr_number} closed without merging")
