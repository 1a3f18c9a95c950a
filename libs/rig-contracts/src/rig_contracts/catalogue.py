"""The event catalogue: one envelope class per type, the union that parses them, and the upcasters."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from rig_contracts import payloads as p
from rig_contracts.envelope import Envelope
from rig_contracts.upcasting import upcast


class IssueApprovedEvent(Envelope):
    """ISSUE_APPROVED: see `payloads.IssueApproved`."""

    type: Literal["ISSUE_APPROVED"] = "ISSUE_APPROVED"
    v: Literal[1] = 1
    data: p.IssueApproved


class IssueUnapprovedEvent(Envelope):
    """ISSUE_UNAPPROVED: see `payloads.IssueUnapproved`."""

    type: Literal["ISSUE_UNAPPROVED"] = "ISSUE_UNAPPROVED"
    v: Literal[1] = 1
    data: p.IssueUnapproved


class IssueClosedEvent(Envelope):
    """ISSUE_CLOSED: see `payloads.IssueClosed`."""

    type: Literal["ISSUE_CLOSED"] = "ISSUE_CLOSED"
    v: Literal[1] = 1
    data: p.IssueClosed


class IssueCancelledEvent(Envelope):
    """ISSUE_CANCELLED: see `payloads.IssueCancelled`."""

    type: Literal["ISSUE_CANCELLED"] = "ISSUE_CANCELLED"
    v: Literal[1] = 1
    data: p.IssueCancelled


class IssueAssignedEvent(Envelope):
    """ISSUE_ASSIGNED: see `payloads.IssueAssigned`."""

    type: Literal["ISSUE_ASSIGNED"] = "ISSUE_ASSIGNED"
    v: Literal[2] = 2
    data: p.IssueAssigned


class IssueEscalatedEvent(Envelope):
    """ISSUE_ESCALATED: see `payloads.IssueEscalated`."""

    type: Literal["ISSUE_ESCALATED"] = "ISSUE_ESCALATED"
    v: Literal[1] = 1
    data: p.IssueEscalated


class IssueBlockedEvent(Envelope):
    """ISSUE_BLOCKED: see `payloads.IssueBlocked`."""

    type: Literal["ISSUE_BLOCKED"] = "ISSUE_BLOCKED"
    v: Literal[1] = 1
    data: p.IssueBlocked


class WorkStartedEvent(Envelope):
    """WORK_STARTED: see `payloads.WorkStarted`."""

    type: Literal["WORK_STARTED"] = "WORK_STARTED"
    v: Literal[1] = 1
    data: p.WorkStarted


class PrCreatedEvent(Envelope):
    """PR_CREATED: see `payloads.PrCreated`."""

    type: Literal["PR_CREATED"] = "PR_CREATED"
    v: Literal[1] = 1
    data: p.PrCreated


class PrReportedEvent(Envelope):
    """PR_REPORTED: see `payloads.PrReported`."""

    type: Literal["PR_REPORTED"] = "PR_REPORTED"
    v: Literal[1] = 1
    data: p.PrReported


class PrUpdatedEvent(Envelope):
    """PR_UPDATED: see `payloads.PrUpdated`."""

    type: Literal["PR_UPDATED"] = "PR_UPDATED"
    v: Literal[1] = 1
    data: p.PrUpdated


class PrLabelsChangedEvent(Envelope):
    """PR_LABELS_CHANGED: see `payloads.PrLabelsChanged`."""

    type: Literal["PR_LABELS_CHANGED"] = "PR_LABELS_CHANGED"
    v: Literal[1] = 1
    data: p.PrLabelsChanged


class PrClosedEvent(Envelope):
    """PR_CLOSED: see `payloads.PrClosed`."""

    type: Literal["PR_CLOSED"] = "PR_CLOSED"
    v: Literal[1] = 1
    data: p.PrClosed


class ReviewAssignedEvent(Envelope):
    """REVIEW_ASSIGNED: see `payloads.ReviewAssigned`."""

    type: Literal["REVIEW_ASSIGNED"] = "REVIEW_ASSIGNED"
    v: Literal[1] = 1
    data: p.ReviewAssigned


class ReviewPassedEvent(Envelope):
    """REVIEW_PASSED: see `payloads.ReviewPassed`."""

    type: Literal["REVIEW_PASSED"] = "REVIEW_PASSED"
    v: Literal[1] = 1
    data: p.ReviewPassed


class ReviewDisputedEvent(Envelope):
    """REVIEW_DISPUTED: see `payloads.ReviewDisputed`."""

    type: Literal["REVIEW_DISPUTED"] = "REVIEW_DISPUTED"
    v: Literal[1] = 1
    data: p.ReviewDisputed


class ChecksCompletedEvent(Envelope):
    """CHECKS_COMPLETED: see `payloads.ChecksCompleted`."""

    type: Literal["CHECKS_COMPLETED"] = "CHECKS_COMPLETED"
    v: Literal[1] = 1
    data: p.ChecksCompleted


class MergeRequestedEvent(Envelope):
    """MERGE_REQUESTED: see `payloads.MergeRequested`."""

    type: Literal["MERGE_REQUESTED"] = "MERGE_REQUESTED"
    v: Literal[1] = 1
    data: p.MergeRequested


class MergeBlockedEvent(Envelope):
    """MERGE_BLOCKED: see `payloads.MergeBlocked`."""

    type: Literal["MERGE_BLOCKED"] = "MERGE_BLOCKED"
    v: Literal[1] = 1
    data: p.MergeBlocked


class MergedEvent(Envelope):
    """MERGED: see `payloads.Merged`."""

    type: Literal["MERGED"] = "MERGED"
    v: Literal[1] = 1
    data: p.Merged


class IssueDoneEvent(Envelope):
    """ISSUE_DONE: see `payloads.IssueDone`."""

    type: Literal["ISSUE_DONE"] = "ISSUE_DONE"
    v: Literal[1] = 1
    data: p.IssueDone


class RunStartedEvent(Envelope):
    """RUN_STARTED: see `payloads.RunStarted`."""

    type: Literal["RUN_STARTED"] = "RUN_STARTED"
    v: Literal[1] = 1
    data: p.RunStarted


class RunStepEvent(Envelope):
    """RUN_STEP: see `payloads.RunStep`."""

    type: Literal["RUN_STEP"] = "RUN_STEP"
    v: Literal[1] = 1
    data: p.RunStep


class RunFinishedEvent(Envelope):
    """RUN_FINISHED: see `payloads.RunFinished`."""

    type: Literal["RUN_FINISHED"] = "RUN_FINISHED"
    v: Literal[1] = 1
    data: p.RunFinished


class TokenUsageEvent(Envelope):
    """TOKEN_USAGE: see `payloads.TokenUsage`."""

    type: Literal["TOKEN_USAGE"] = "TOKEN_USAGE"
    v: Literal[1] = 1
    data: p.TokenUsage


class AgentHeartbeatEvent(Envelope):
    """AGENT_HEARTBEAT: see `payloads.AgentHeartbeat`."""

    type: Literal["AGENT_HEARTBEAT"] = "AGENT_HEARTBEAT"
    v: Literal[1] = 1
    data: p.AgentHeartbeat


class AgentStuckEvent(Envelope):
    """AGENT_STUCK: see `payloads.AgentStuck`."""

    type: Literal["AGENT_STUCK"] = "AGENT_STUCK"
    v: Literal[1] = 1
    data: p.AgentStuck


class BudgetExceededEvent(Envelope):
    """BUDGET_EXCEEDED: see `payloads.BudgetExceeded`."""

    type: Literal["BUDGET_EXCEEDED"] = "BUDGET_EXCEEDED"
    v: Literal[1] = 1
    data: p.BudgetExceeded


class TokenRevokedEvent(Envelope):
    """TOKEN_REVOKED: see `payloads.TokenRevoked`."""

    type: Literal["TOKEN_REVOKED"] = "TOKEN_REVOKED"
    v: Literal[1] = 1
    data: p.TokenRevoked


Event = Annotated[
    IssueApprovedEvent | IssueUnapprovedEvent | IssueClosedEvent | IssueCancelledEvent | IssueAssignedEvent | IssueEscalatedEvent | IssueBlockedEvent | WorkStartedEvent | PrCreatedEvent | PrReportedEvent | PrUpdatedEvent | PrLabelsChangedEvent | PrClosedEvent | ReviewAssignedEvent | ReviewPassedEvent | ReviewDisputedEvent | ChecksCompletedEvent | MergeRequestedEvent | MergeBlockedEvent | MergedEvent | IssueDoneEvent | RunStartedEvent | RunStepEvent | RunFinishedEvent | TokenUsageEvent | AgentHeartbeatEvent | AgentStuckEvent | BudgetExceededEvent | TokenRevokedEvent,
    Field(discriminator="type"),
]
"""Any event of the catalogue, parsed by its `type`."""

EVENT_TYPES: dict[str, type[Envelope]] = {
    "ISSUE_APPROVED": IssueApprovedEvent,
    "ISSUE_UNAPPROVED": IssueUnapprovedEvent,
    "ISSUE_CLOSED": IssueClosedEvent,
    "ISSUE_CANCELLED": IssueCancelledEvent,
    "ISSUE_ASSIGNED": IssueAssignedEvent,
    "ISSUE_ESCALATED": IssueEscalatedEvent,
    "ISSUE_BLOCKED": IssueBlockedEvent,
    "WORK_STARTED": WorkStartedEvent,
    "PR_CREATED": PrCreatedEvent,
    "PR_REPORTED": PrReportedEvent,
    "PR_UPDATED": PrUpdatedEvent,
    "PR_LABELS_CHANGED": PrLabelsChangedEvent,
    "PR_CLOSED": PrClosedEvent,
    "REVIEW_ASSIGNED": ReviewAssignedEvent,
    "REVIEW_PASSED": ReviewPassedEvent,
    "REVIEW_DISPUTED": ReviewDisputedEvent,
    "CHECKS_COMPLETED": ChecksCompletedEvent,
    "MERGE_REQUESTED": MergeRequestedEvent,
    "MERGE_BLOCKED": MergeBlockedEvent,
    "MERGED": MergedEvent,
    "ISSUE_DONE": IssueDoneEvent,
    "RUN_STARTED": RunStartedEvent,
    "RUN_STEP": RunStepEvent,
    "RUN_FINISHED": RunFinishedEvent,
    "TOKEN_USAGE": TokenUsageEvent,
    "AGENT_HEARTBEAT": AgentHeartbeatEvent,
    "AGENT_STUCK": AgentStuckEvent,
    "BUDGET_EXCEEDED": BudgetExceededEvent,
    "TOKEN_REVOKED": TokenRevokedEvent,
}
"""Every event class by type name."""

CURRENT_VERSIONS: dict[str, int] = {name: int(cls.model_fields["v"].default) for name, cls in EVENT_TYPES.items()}
"""The version each type is written at today."""

_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class UnknownEventType(ValueError):
    """Raised for a `type` this code does not know (written by a newer producer)."""


def parse_event(raw: dict[str, Any]) -> Event:
    """Validate a decoded event, upcasting an old `data` shape to the current version first."""
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise UnknownEventType(f"unknown event type {kind!r}: upgrade this service or drop the entry")
    return _ADAPTER.validate_python(upcast(raw, CURRENT_VERSIONS[str(kind)]))


def event_from_json(text: str | bytes) -> Event:
    """Parse an event from its JSON text on the wire."""
    decoded = json.loads(text)
    if not isinstance(decoded, dict):
        raise ValueError("an event must be a JSON object")
    return parse_event(decoded)
