"""The event catalogue: one envelope class per type (docs/design.md section 2) and the union that parses them.

Written out class by class, as a generator would, so each type reads on its own; `type`, `v` and the
payload model are all a reader (or `schema.py`) needs. Add a type here and in `payloads.py`; bump `v` and
register an upcaster in `upcasting.py` when `data` changes shape.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from rig_contracts import payloads as p
from rig_contracts.envelope import DATA_DESCRIPTION, TYPE_DESCRIPTION, VERSION_DESCRIPTION, Envelope


class IssueApprovedEvent(Envelope):
    """ISSUE_APPROVED: the issue got the `agent-ready` label."""

    type: Literal["ISSUE_APPROVED"] = Field(default="ISSUE_APPROVED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.IssueApproved = Field(description=DATA_DESCRIPTION)


class IssueUnapprovedEvent(Envelope):
    """ISSUE_UNAPPROVED: the `agent-ready` label was removed."""

    type: Literal["ISSUE_UNAPPROVED"] = Field(default="ISSUE_UNAPPROVED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.IssueUnapproved = Field(description=DATA_DESCRIPTION)


class IssueClosedEvent(Envelope):
    """ISSUE_CLOSED: the issue was closed."""

    type: Literal["ISSUE_CLOSED"] = Field(default="ISSUE_CLOSED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.IssueClosed = Field(description=DATA_DESCRIPTION)


class IssueCancelledEvent(Envelope):
    """ISSUE_CANCELLED: work on the item stopped."""

    type: Literal["ISSUE_CANCELLED"] = Field(default="ISSUE_CANCELLED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.IssueCancelled = Field(description=DATA_DESCRIPTION)


class IssueAssignedEvent(Envelope):
    """ISSUE_ASSIGNED: the router gave the item to an agent pool."""

    type: Literal["ISSUE_ASSIGNED"] = Field(default="ISSUE_ASSIGNED", description=TYPE_DESCRIPTION)
    v: Literal[2] = Field(default=2, description=VERSION_DESCRIPTION)
    data: p.IssueAssigned = Field(description=DATA_DESCRIPTION)


class IssueEscalatedEvent(Envelope):
    """ISSUE_ESCALATED: the item needs a human or a special agent."""

    type: Literal["ISSUE_ESCALATED"] = Field(default="ISSUE_ESCALATED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.IssueEscalated = Field(description=DATA_DESCRIPTION)


class IssueBlockedEvent(Envelope):
    """ISSUE_BLOCKED: the item cannot proceed."""

    type: Literal["ISSUE_BLOCKED"] = Field(default="ISSUE_BLOCKED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.IssueBlocked = Field(description=DATA_DESCRIPTION)


class WorkStartedEvent(Envelope):
    """WORK_STARTED: someone began working on the item."""

    type: Literal["WORK_STARTED"] = Field(default="WORK_STARTED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.WorkStarted = Field(description=DATA_DESCRIPTION)


class PrCreatedEvent(Envelope):
    """PR_CREATED: a PR was opened and linked to its issue by a closing keyword."""

    type: Literal["PR_CREATED"] = Field(default="PR_CREATED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.PrCreated = Field(description=DATA_DESCRIPTION)


class PrReportedEvent(Envelope):
    """PR_REPORTED: someone says they opened a PR (shown, never routed on)."""

    type: Literal["PR_REPORTED"] = Field(default="PR_REPORTED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.PrReported = Field(description=DATA_DESCRIPTION)


class PrUpdatedEvent(Envelope):
    """PR_UPDATED: a new head SHA was pushed."""

    type: Literal["PR_UPDATED"] = Field(default="PR_UPDATED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.PrUpdated = Field(description=DATA_DESCRIPTION)


class PrLabelsChangedEvent(Envelope):
    """PR_LABELS_CHANGED: labels on a PR changed."""

    type: Literal["PR_LABELS_CHANGED"] = Field(default="PR_LABELS_CHANGED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.PrLabelsChanged = Field(description=DATA_DESCRIPTION)


class PrClosedEvent(Envelope):
    """PR_CLOSED: a PR was closed without merging."""

    type: Literal["PR_CLOSED"] = Field(default="PR_CLOSED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.PrClosed = Field(description=DATA_DESCRIPTION)


class ReviewAssignedEvent(Envelope):
    """REVIEW_ASSIGNED: the router sent a PR head to the review agent."""

    type: Literal["REVIEW_ASSIGNED"] = Field(default="REVIEW_ASSIGNED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.ReviewAssigned = Field(description=DATA_DESCRIPTION)


class ReviewPassedEvent(Envelope):
    """REVIEW_PASSED: an approving review was submitted."""

    type: Literal["REVIEW_PASSED"] = Field(default="REVIEW_PASSED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.ReviewPassed = Field(description=DATA_DESCRIPTION)


class ReviewDisputedEvent(Envelope):
    """REVIEW_DISPUTED: changes were requested."""

    type: Literal["REVIEW_DISPUTED"] = Field(default="REVIEW_DISPUTED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.ReviewDisputed = Field(description=DATA_DESCRIPTION)


class ChecksCompletedEvent(Envelope):
    """CHECKS_COMPLETED: cI finished for a SHA."""

    type: Literal["CHECKS_COMPLETED"] = Field(default="CHECKS_COMPLETED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.ChecksCompleted = Field(description=DATA_DESCRIPTION)


class MergeRequestedEvent(Envelope):
    """MERGE_REQUESTED: a merge request was accepted."""

    type: Literal["MERGE_REQUESTED"] = Field(default="MERGE_REQUESTED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.MergeRequested = Field(description=DATA_DESCRIPTION)


class MergeBlockedEvent(Envelope):
    """MERGE_BLOCKED: the merger will not merge now."""

    type: Literal["MERGE_BLOCKED"] = Field(default="MERGE_BLOCKED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.MergeBlocked = Field(description=DATA_DESCRIPTION)


class MergedEvent(Envelope):
    """MERGED: the PR was merged (from the pull_request.closed webhook)."""

    type: Literal["MERGED"] = Field(default="MERGED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.Merged = Field(description=DATA_DESCRIPTION)


class IssueDoneEvent(Envelope):
    """ISSUE_DONE: the item's work is finished."""

    type: Literal["ISSUE_DONE"] = Field(default="ISSUE_DONE", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.IssueDone = Field(description=DATA_DESCRIPTION)


class RunStartedEvent(Envelope):
    """RUN_STARTED: an agent run began."""

    type: Literal["RUN_STARTED"] = Field(default="RUN_STARTED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.RunStarted = Field(description=DATA_DESCRIPTION)


class RunStepEvent(Envelope):
    """RUN_STEP: one step of a run (a phase, a turn batch)."""

    type: Literal["RUN_STEP"] = Field(default="RUN_STEP", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.RunStep = Field(description=DATA_DESCRIPTION)


class RunFinishedEvent(Envelope):
    """RUN_FINISHED: a run ended."""

    type: Literal["RUN_FINISHED"] = Field(default="RUN_FINISHED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.RunFinished = Field(description=DATA_DESCRIPTION)


class TokenUsageEvent(Envelope):
    """TOKEN_USAGE: tokens and cost of a model call outside a run."""

    type: Literal["TOKEN_USAGE"] = Field(default="TOKEN_USAGE", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.TokenUsage = Field(description=DATA_DESCRIPTION)


class AgentHeartbeatEvent(Envelope):
    """AGENT_HEARTBEAT: an agent or person is online."""

    type: Literal["AGENT_HEARTBEAT"] = Field(default="AGENT_HEARTBEAT", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.AgentHeartbeat = Field(description=DATA_DESCRIPTION)


class AgentStuckEvent(Envelope):
    """AGENT_STUCK: an agent cannot go on."""

    type: Literal["AGENT_STUCK"] = Field(default="AGENT_STUCK", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.AgentStuck = Field(description=DATA_DESCRIPTION)


class BudgetExceededEvent(Envelope):
    """BUDGET_EXCEEDED: an issue's or a repository's budget is spent."""

    type: Literal["BUDGET_EXCEEDED"] = Field(default="BUDGET_EXCEEDED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.BudgetExceeded = Field(description=DATA_DESCRIPTION)


class BudgetWarningEvent(Envelope):
    """BUDGET_WARNING: an issue's or a repository's budget is nearly spent."""

    type: Literal["BUDGET_WARNING"] = Field(default="BUDGET_WARNING", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.BudgetWarning = Field(description=DATA_DESCRIPTION)


class TokenRevokedEvent(Envelope):
    """TOKEN_REVOKED: an access token is no longer valid."""

    type: Literal["TOKEN_REVOKED"] = Field(default="TOKEN_REVOKED", description=TYPE_DESCRIPTION)
    v: Literal[1] = Field(default=1, description=VERSION_DESCRIPTION)
    data: p.TokenRevoked = Field(description=DATA_DESCRIPTION)


Event = Annotated[
    IssueApprovedEvent | IssueUnapprovedEvent | IssueClosedEvent | IssueCancelledEvent | IssueAssignedEvent |
    IssueEscalatedEvent | IssueBlockedEvent | WorkStartedEvent | PrCreatedEvent | PrReportedEvent | PrUpdatedEvent |
    PrLabelsChangedEvent | PrClosedEvent | ReviewAssignedEvent | ReviewPassedEvent | ReviewDisputedEvent |
    ChecksCompletedEvent | MergeRequestedEvent | MergeBlockedEvent | MergedEvent | IssueDoneEvent |
    RunStartedEvent | RunStepEvent | RunFinishedEvent | TokenUsageEvent | AgentHeartbeatEvent | AgentStuckEvent |
    BudgetExceededEvent | BudgetWarningEvent | TokenRevokedEvent,
    Field(discriminator="type"),
]
"""Any event of the catalogue, parsed by its `type`."""

EVENT_TYPES: dict[str, type[Envelope]] = {
    cls.model_fields["type"].default: cls for cls in get_args(get_args(Event)[0])
}
"""Every event class by type name, in catalogue order."""
