"""Pure rules that turn checks, statuses and reviews into GitHub's verdicts (no I/O here).

`mergeable_state` follows GitHub for a base branch protected by a rule that requires every reported check
and status to pass, plus (when the repository says so) an approving review and an up-to-date head:

- `unknown`: just after a push, while GitHub would still be computing (chaos; see the settings);
- `dirty`: the head does not merge cleanly into the base;
- `blocked`: a check run or status is failing or not finished yet, or a required approval is missing
  (a later review by the same reviewer replaces an earlier one; changes requested block);
- `behind`: the repository requires up-to-date heads and the head lacks the base's tip (on GitHub `behind`
  only appears with that protection, so it is off unless the repository asks for it);
- `draft`: a draft pull request that would otherwise be clean;
- `clean`: mergeable, all checks green.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rig_sandbox.records import CheckRun, CommitStatus, Review

FAILING_CONCLUSIONS = frozenset({"failure", "cancelled", "timed_out", "action_required", "startup_failure", "stale"})
"""Check run conclusions that count as failing."""

_CONCLUSION_RANK = ["action_required", "startup_failure", "failure", "timed_out", "cancelled", "stale", "neutral",
                    "skipped", "success"]


def latest_runs(runs: Iterable[CheckRun]) -> list[CheckRun]:
    """The latest run per (App, name), the way GitHub's `filter=latest` shows them."""
    latest: dict[tuple[str, str], CheckRun] = {}
    for run in runs:
        key = (run.app_role, run.name)
        if key not in latest or run.id > latest[key].id:
            latest[key] = run
    return sorted(latest.values(), key=lambda run: run.id)


def suite_outcome(runs: Sequence[CheckRun]) -> tuple[str, str | None]:
    """A check suite's status and conclusion from its latest runs: completed with the worst conclusion."""
    current = latest_runs(runs)
    if not current:
        return "queued", None
    if any(run.status != "completed" for run in current):
        return ("in_progress" if any(run.status == "in_progress" for run in current) else "queued"), None
    conclusions = [run.conclusion or "neutral" for run in current]
    return "completed", min(conclusions, key=lambda c: _CONCLUSION_RANK.index(c) if c in _CONCLUSION_RANK else 0)


def latest_statuses(statuses: Iterable[CommitStatus]) -> list[CommitStatus]:
    """The latest status per context, newest first (as the combined status lists them)."""
    latest: dict[str, CommitStatus] = {}
    for status in statuses:
        if status.context not in latest or status.id > latest[status.context].id:
            latest[status.context] = status
    return sorted(latest.values(), key=lambda status: status.id, reverse=True)


def combined_state(statuses: Sequence[CommitStatus]) -> str:
    """The combined state: failure if any is error or failure, pending if any is pending or none exist."""
    states = {status.state for status in latest_statuses(statuses)}
    if states & {"error", "failure"}:
        return "failure"
    if not states or "pending" in states:
        return "pending"
    return "success"


@dataclass(frozen=True, slots=True)
class MergeGate:
    """Why a pull request may not be merged yet: the first reason found, in GitHub's words, or None."""

    state: str
    reason: str | None


def approved(reviews: Iterable[Review], author: str) -> bool:
    """Whether someone other than `author` approves, and no reviewer's latest review requests changes."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED") and review.user.lower() != author.lower():
            latest[review.user.lower()] = review
    states = {review.state for review in latest.values()}
    return "APPROVED" in states and "CHANGES_REQUESTED" not in states


def merge_gate(*, conflicted: bool, runs: Sequence[CheckRun], statuses: Sequence[CommitStatus],
               require_review: bool, is_approved: bool, require_up_to_date: bool, up_to_date: bool,
               draft: bool, required: Sequence[str] = ()) -> MergeGate:
    """The `mergeable_state` of an open pull request, with the reason a merge is refused (None: it may merge)."""
    if conflicted:
        return MergeGate("dirty", "Pull Request is not mergeable")
    blocked = check_failure(runs, statuses)
    reported = {run.name for run in runs} | {status.context for status in statuses}
    missing = [name for name in required if name not in reported]
    if blocked is None and missing:
        blocked = f'Required status check "{missing[0]}" is expected.'
    if blocked is None and require_review and not is_approved:
        blocked = "At least 1 approving review is required by reviewers with write access."
    if blocked is not None:
        return MergeGate("blocked", blocked)
    if require_up_to_date and not up_to_date:
        return MergeGate("behind", "Head branch is out of date. Update it and try the merge again.")
    return MergeGate("draft", "Pull Request is still a draft") if draft else MergeGate("clean", None)


def check_failure(runs: Sequence[CheckRun], statuses: Sequence[CommitStatus]) -> str | None:
    """Why the checks and statuses of a commit block a merge (one not passed yet, or failing), or None."""
    for run in latest_runs(runs):
        if run.status != "completed":
            return f'Required status check "{run.name}" is expected.'
        if run.conclusion in FAILING_CONCLUSIONS:
            return f'Required status check "{run.name}" is failing.'
    for status in latest_statuses(statuses):
        if status.state != "success":
            verb = "is expected" if status.state == "pending" else "is failing"
            return f'Required status check "{status.context}" {verb}.'
    return None
