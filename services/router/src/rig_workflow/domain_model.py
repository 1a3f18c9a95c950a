"""What the work item's state machine reads and writes: the item, the repository's policy, the decisions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rig_contracts.reviewers import Reviewers


class State(StrEnum):
    """Where a work item is in its life (docs/design.md section 5)."""

    NEW = "NEW"
    APPROVED = "APPROVED"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    PR_OPEN = "PR_OPEN"
    IN_REVIEW = "IN_REVIEW"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    APPROVED_FOR_MERGE = "APPROVED_FOR_MERGE"
    MERGING = "MERGING"
    MERGED = "MERGED"
    DONE = "DONE"
    CLOSED = "CLOSED"
    ESCALATED = "ESCALATED"
    BLOCKED = "BLOCKED"
    CANCELLED = "CANCELLED"


FINAL = frozenset({State.DONE, State.CANCELLED})
"""States nothing leaves."""

HALTED = frozenset({State.MERGED, State.CLOSED, State.ESCALATED, State.BLOCKED}) | FINAL
"""States in which the router assigns nothing more (facts are still recorded)."""

REVIEWING = frozenset({State.PR_OPEN, State.IN_REVIEW})
"""States in which a review of the current head is awaited."""

DEVELOPING = frozenset({State.APPROVED, State.ASSIGNED, State.IN_PROGRESS, State.CHANGES_REQUESTED})
"""States in which a dev agent holds the item."""

RESTARTABLE = frozenset({State.BLOCKED, State.ESCALATED, State.CANCELLED})
"""States a new approval restarts from (the label added again after a fix), unless the issue closed or merged."""

MERGE_PHASE = frozenset({State.APPROVED_FOR_MERGE, State.MERGING})
"""States in which the approved head is on its way to the base branch."""

MAX_ANOMALIES_KEPT = 50
"""Anomalies kept word for word per item; `anomaly_count` counts them all."""


@dataclass(frozen=True, slots=True)
class Policy:
    """A repository's rules for one decision, from its `.rig-agent.yaml` (docs/design.md section 6) and settings."""

    stack: str = "base"
    max_review_rounds: int = 3
    max_fix_attempts: int = 3
    requires_macos: bool = False
    """A matched `escalate` entry contains `requires-macos`: the work goes to `ibuild-e`."""
    escalation: str | None = None
    """A matched `escalate` entry for people: the item escalates instead of being assigned."""
    config_error: str | None = None
    """What is wrong with `.rig-agent.yaml`, if anything: the item is blocked."""
    repo_budget_spent: bool = False
    """The repository's daily budget is spent: no further assignments."""
    issue_budget_usd: float | None = None
    """`budget.perIssueUsd` of the file: carried to the costs service, which may only tighten its caps with it."""
    day_budget_usd: float | None = None
    """`budget.perDayUsd` of the file (the repository's per UTC day), likewise."""
    pr_authors: tuple[str, ...] = ()
    """Logins whose PRs an item adopts: the dev App's bot login and the people the settings trust."""
    review_login: str = ""
    """review-e's GitHub login: the only bot whose approvals and disputes count (from settings, not the file)."""
    maintainer_reviews: bool = False
    """Whether maintainers' (OWNER, MEMBER, COLLABORATOR) approvals and disputes count too (from settings)."""

    @property
    def reviewers(self) -> Reviewers:
        """Whose approvals and disputes count for this decision."""
        return Reviewers(self.review_login, self.maintainer_reviews)

    def agent_for(self, stack: str) -> str:
        """The agent pool that develops for `stack`: `ibuild-e` for iOS or macOS work, else `dev-e-{stack}`."""
        if stack == "ios" or self.requires_macos:
            return "ibuild-e"
        return f"dev-e-{stack}"


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One approved issue on its way to a merged PR: the router's projection of the events about it."""

    repo: str
    number: int
    state: State = State.NEW
    approved: bool = False
    agent: str | None = None
    stack: str | None = None
    attempt: int = 0
    """Dev assignments made so far (first work, changes requested, fixes); the next one is `attempt + 1`."""
    pr_number: int | None = None
    branch: str = ""
    """The branch the dev agent works on: the adopted PR's head branch; empty until a PR is adopted."""
    reported_branch: str = ""
    """The branch the latest WORK_STARTED named: shown, never given to an agent (reports never set a branch)."""
    foreign_prs: frozenset[int] = frozenset()
    """PRs that close the issue but were not adopted (a fork's, an outsider's, one opened before approval)."""
    head_sha: str = ""
    superseded_heads: frozenset[str] = frozenset()
    """Heads a push replaced: a late event about one of them changes nothing."""
    approved_sha: str | None = None
    """The head the last approving review approved; a push to another head voids it."""
    review_heads: frozenset[str] = frozenset()
    """Heads a review was assigned for: at most one review per head."""
    review_round: int = 0
    disputes: int = 0
    fix_attempts: int = 0
    merged: bool = False
    merge_sha: str = ""
    closed_completed: bool = False
    closed: bool = False
    """The issue was closed (for any reason): a new approval does not restart its work."""
    budget_exceeded: bool = False
    handled: frozenset[str] = frozenset()
    """Keys of the events acted on: each key acts once."""
    anomalies: tuple[str, ...] = ()
    anomaly_count: int = 0

    @property
    def subject(self) -> str:
        """The item as events name it, `owner/repo#123`."""
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True, slots=True)
class AssignDev:
    """Give the item to a dev agent pool: first work, changes a review asked for, or a fix before merging."""

    key: str
    agent: str
    stack: str
    attempt: int
    reason: str = "new"
    """`new`, `changes requested`, or the merge blocker (`conflict`, `behind`, `checks failed`)."""
    branch: str = ""
    feedback: str = ""
    """What to change: the review's body, or the failing checks' names and summaries."""


@dataclass(frozen=True, slots=True)
class AssignReview:
    """Send one head of the item's PR to the review agent."""

    key: str
    pr_number: int
    head_sha: str
    round: int
    agent: str = "review-e"


@dataclass(frozen=True, slots=True)
class RequestMerge:
    """Ask the merger to merge the PR at the approved head."""

    key: str
    pr_number: int
    head_sha: str


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the work: the label was removed or the issue closed as not planned or duplicate."""

    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class Escalate:
    """The item needs people (or, with `to`, a special agent pool)."""

    key: str
    reason: str
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """The item cannot proceed until someone acts (a bad `.rig-agent.yaml`, a spent budget)."""

    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class Done:
    """The item's work is finished: its PR merged and its issue closed as completed."""

    key: str
    pr_number: int | None
    merge_sha: str


Command = AssignDev | AssignReview | RequestMerge | Cancel | Escalate | Block | Done
"""A decision for the router to publish. Each `key` derives from the causing event's key, for idempotent publishing."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What one event did: the item as it now stands and the decisions to publish, in order."""

    item: WorkItem | None
    commands: tuple[Command, ...] = ()
    duplicate: bool = False
    """The event's key was already acted on; nothing changed."""
    anomaly: str | None = None
    """Why the event was unexpected or out of order, if it was."""
