"""The merge policy (docs/design.md sections 4 and 5): given what GitHub says about a PR now, merge, wait or block.

Pure: the caller fetches the facts (`rig_merger.github`) and acts on the verdict (`rig_merger.worker`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rig_contracts.reviewers import Reviewers

PASSING = frozenset({"success", "neutral", "skipped"})
"""Check run conclusions that let a merge through."""

MERGEABLE = frozenset({"clean", "has_hooks"})
"""`mergeable_state`s GitHub merges in."""


class Outcome(StrEnum):
    """What to do with a merge request now."""

    MERGE = "merge"
    """Every condition holds: squash-merge at the approved SHA."""
    MERGED = "merged"
    """The PR is merged already (a retry, or someone else): success, no second merge."""
    WAIT = "wait"
    """Not yet: an event about the PR (a review, checks, a label) will bring it back."""
    RECHECK = "recheck"
    """GitHub is still computing mergeability: ask again after a backed-off pause."""
    BLOCKED = "blocked"
    """Will not merge now; MERGE_BLOCKED says why (`reason` is its payload's reason)."""


FINAL_BLOCKS = frozenset({"head moved", "closed"})
"""Blocks no later event can lift for this request: a new head needs a new review and a new request."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """An outcome with its reason (for BLOCKED, one of MERGE_BLOCKED's reasons) and specifics."""

    outcome: Outcome
    reason: str = ""
    detail: str = ""

    @property
    def final(self) -> bool:
        """Whether the request is finished with (merged, or blocked for good)."""
        return self.outcome is Outcome.MERGED or (self.outcome is Outcome.BLOCKED and self.reason in FINAL_BLOCKS)


@dataclass(frozen=True, slots=True)
class Review:
    """One submitted review: who, what (`APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, …) and at which commit."""

    author: str
    state: str
    commit_id: str
    association: str = ""
    """The author's `author_association` (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE …)."""


@dataclass(frozen=True, slots=True)
class Check:
    """One check run or commit status on the head: `done` once finished, `passed` when it let a merge through."""

    name: str
    done: bool
    passed: bool
    conclusion: str


@dataclass(frozen=True, slots=True)
class PullFacts:
    """A PR as GitHub sees it now, with its reviews and the checks and statuses on its head."""

    state: str
    draft: bool
    merged: bool
    head_sha: str
    mergeable_state: str
    labels: tuple[str, ...]
    reviews: tuple[Review, ...]
    checks: tuple[Check, ...]
    merge_commit_sha: str | None = None
    author: str = ""
    """The PR's author: their own review never counts."""
    required_checks: tuple[str, ...] = ()
    """Checks branch protection on the base branch requires (each must have reported and passed)."""


def check_run(name: str, status: str, conclusion: str | None) -> Check:
    """A check run as a `Check`."""
    done = status == "completed"
    return Check(name, done, done and (conclusion or "") in PASSING, conclusion or status)


def commit_status(context: str, state: str) -> Check:
    """A commit status (the older status API) as a `Check`."""
    return Check(context, state != "pending", state == "success", state)


def latest_reviews(reviews: Iterable[Review]) -> dict[str, Review]:
    """Each reviewer's latest approving or change-requesting review (comments change nothing), oldest first in."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.author] = review
    return latest


def decide(approved_sha: str, pull: PullFacts, blocking_labels: Sequence[str], *, require_checks: bool = True,
           reviewers: Reviewers | None = None, required_checks: Sequence[str] = ()) -> Verdict:
    """Whether to merge `pull` at `approved_sha` now, and if not, why (docs/design.md section 5, issues 7 and 12).

    The rules in order: ended or moved, draft, a blocking label, the checks (every required one reported and
    passed: branch protection's and `required_checks`), the approval (only `reviewers`' reviews count),
    mergeability.
    """
    required = tuple(dict.fromkeys((*pull.required_checks, *required_checks)))
    for verdict in (_pull_state(approved_sha, pull), _labels(pull.labels, blocking_labels),
                    _checks(pull.checks, require_checks, required),
                    _review(pull.reviews, approved_sha, reviewers or Reviewers(), pull.author)):
        if verdict is not None:
            return verdict
    return _mergeability(pull.mergeable_state)


def _pull_state(approved_sha: str, pull: PullFacts) -> Verdict | None:
    if pull.merged:
        return Verdict(Outcome.MERGED, "already merged", pull.merge_commit_sha or "")
    if pull.state != "open":
        return Verdict(Outcome.BLOCKED, "closed", "the PR was closed without merging")
    if pull.head_sha != approved_sha:
        return Verdict(Outcome.BLOCKED, "head moved", f"head is {pull.head_sha}, the approval was for {approved_sha}")
    if pull.draft:
        return Verdict(Outcome.WAIT, "draft", "the PR is a draft")
    return None


def _labels(labels: Sequence[str], blocking: Sequence[str]) -> Verdict | None:
    folded = {label.casefold() for label in blocking}
    holding = sorted({label for label in labels if label.casefold() in folded})
    return Verdict(Outcome.BLOCKED, "label", ", ".join(holding)) if holding else None


def _checks(checks: Sequence[Check], require_checks: bool, required: Sequence[str]) -> Verdict | None:
    failed = sorted(f"{c.name}: {c.conclusion}" for c in checks if c.done and not c.passed)
    if failed:
        return Verdict(Outcome.BLOCKED, "checks failed", "; ".join(failed))
    pending = sorted(c.name for c in checks if not c.done)
    if pending:
        return Verdict(Outcome.WAIT, "checks pending", ", ".join(pending))
    # A quick check green before a slower required one has even started must not let the merge through.
    reported = {c.name for c in checks}
    missing = [name for name in required if name not in reported]
    if missing:
        return Verdict(Outcome.WAIT, "checks pending", "required checks not reported yet: " + ", ".join(missing))
    if require_checks and not checks:
        return Verdict(Outcome.WAIT, "checks pending", "no check or status has reported on the head yet")
    return None


def _review(reviews: Sequence[Review], sha: str, reviewers: Reviewers, pr_author: str) -> Verdict | None:
    # Anyone may review a public PR: only review-e's (and configured maintainers') reviews approve or hold it.
    latest = [r for r in latest_reviews(reviews).values() if reviewers.counts(r.author, r.association, pr_author)]
    disputed = sorted(r.author for r in latest if r.state == "CHANGES_REQUESTED")
    if disputed:
        return Verdict(Outcome.WAIT, "changes requested", f"by {', '.join(disputed)}")
    if not any(r.state == "APPROVED" and r.commit_id == sha for r in latest):
        # A merge request may come before the approval's webhook, or even before GitHub shows it: wait for it.
        return Verdict(Outcome.WAIT, "awaiting approval", f"no approving review that counts (review-e's) at {sha} yet")
    return None


_BY_MERGEABLE_STATE = {
    "unknown": Verdict(Outcome.RECHECK, "mergeability unknown", "GitHub is still computing mergeability"),
    "unstable": Verdict(Outcome.BLOCKED, "checks failed", "GitHub reports a failing check (unstable)"),
    "behind": Verdict(Outcome.BLOCKED, "behind", "the branch must be brought up to date with its base"),
    "dirty": Verdict(Outcome.BLOCKED, "conflict", "the PR conflicts with its base branch"),
    "blocked": Verdict(Outcome.WAIT, "blocked", "branch protection does not allow the merge yet"),
}
"""What each `mergeable_state` other than clean or has_hooks means for the request."""


def _mergeability(state: str) -> Verdict:
    if state in MERGEABLE:
        return Verdict(Outcome.MERGE)
    return _BY_MERGEABLE_STATE.get(state) or Verdict(Outcome.WAIT, state or "unknown", f"mergeable_state is {state!r}")


def backoff(tries: int, first_s: float, max_s: float) -> float:
    """Seconds to wait before try number `tries` + 1: `first_s` doubled per try, at most `max_s`."""
    return float(min(max_s, first_s * 2 ** max(tries, 0)))
