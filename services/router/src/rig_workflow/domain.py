"""The work item's state machine (docs/design.md section 5): one event in, the item and the decisions out.

Pure: no I/O, no clock, no randomness. Each event acts once per `key`; an event that does not fit the item's
state (out of order, unexpected, about another PR) is recorded as an anomaly and counted, never raised.
The router's own decisions come back on the stream too: they only confirm what was already decided.
"""

from __future__ import annotations

import re
from dataclasses import replace

from rig_contracts import Event
from rig_contracts.catalogue import (
    BudgetExceededEvent,
    IssueApprovedEvent,
    IssueAssignedEvent,
    IssueClosedEvent,
    IssueDoneEvent,
    IssueEscalatedEvent,
    IssueUnapprovedEvent,
    MergeBlockedEvent,
    MergedEvent,
    MergeRequestedEvent,
    PrClosedEvent,
    PrCreatedEvent,
    PrUpdatedEvent,
    ReviewAssignedEvent,
    ReviewDisputedEvent,
    ReviewPassedEvent,
    WorkStartedEvent,
)
from rig_workflow import domain_pull as pull
from rig_workflow.domain_model import (
    DEVELOPING,
    FINAL,
    HALTED,
    RESTARTABLE,
    REVIEWING,
    Decision,
    Policy,
    State,
    WorkItem,
)
from rig_workflow.domain_steps import (
    Outcome,
    assign_dev,
    block,
    cancel,
    escalate,
    finish,
    review,
    unexpected,
    with_anomaly,
)

WORK_ITEM_SUBJECT = re.compile(r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(?P<number>[1-9][0-9]*)$")
"""A subject that names a work item, `owner/repo#123` (not `owner/repo@sha`)."""

ROUTER = "router"
"""The `source` of the router's own decisions."""

REVIEW_AGENT = "review-e"
"""The agent pool that holds an item while its PR is being reviewed."""


def assignee(item: WorkItem) -> str | None:
    """The agent pool that holds the item now: its dev pool while developing, review-e while reviewing, else none."""
    if item.state in DEVELOPING:
        return item.agent
    return REVIEW_AGENT if item.state in REVIEWING else None


def from_assignee(item: WorkItem, source: str) -> bool:
    """Whether `source` is the item's current assignee (`agent:<pool>`; a person or another pool is not)."""
    holder = assignee(item)
    return holder is not None and source == f"agent:{holder}"


def decide(item: WorkItem | None, event: Event, policy: Policy) -> Decision:
    """The item as `event` leaves it and the decisions to publish; `item` is None for a subject not seen yet.

    Events the state machine does not route on (runs, heartbeats, checks, labels of a PR…) change nothing and
    are not recorded; neither are events whose subject is not a work item (the decision's item is then None).
    """
    current = item or _new_item(event.subject)
    if current is None:
        return Decision(item)
    if current.subject != event.subject:
        return Decision(item, anomaly=f"{event.type} {event.key}: subject {event.subject} is not {current.subject}")
    if event.key in current.handled:
        return Decision(item, duplicate=True)
    outcome = _transition(current, event, policy)
    if outcome is None:
        return Decision(item)
    after = replace(outcome.item, handled=outcome.item.handled | {event.key})
    if outcome.anomaly is None:
        return Decision(after, outcome.commands)
    anomaly = f"{event.type} {event.key}: {outcome.anomaly}"
    return Decision(with_anomaly(after, anomaly), outcome.commands, anomaly=anomaly)


def _new_item(subject: str) -> WorkItem | None:
    match = WORK_ITEM_SUBJECT.match(subject)
    return WorkItem(match["repo"], int(match["number"])) if match else None


def _transition(item: WorkItem, event: Event, policy: Policy) -> Outcome | None:  # noqa: PLR0911, PLR0912 - a dispatch, one case per type
    """The outcome of one event type's handler, or None for a type the state machine does not route on."""
    match event:
        case IssueApprovedEvent():
            return approved(item, event, policy)
        case IssueAssignedEvent():
            return assigned(item)
        case WorkStartedEvent():
            return work_started(item, event)
        case PrCreatedEvent():
            return pull.pr_created(item, event, policy)
        case ReviewAssignedEvent():
            return pull.review_assigned(item, event)
        case PrUpdatedEvent():
            return pull.pr_updated(item, event, policy)
        case ReviewPassedEvent():
            return pull.review_passed(item, event, policy)
        case ReviewDisputedEvent():
            return pull.review_disputed(item, event, policy)
        case MergeRequestedEvent():
            return pull.merge_requested(item, event)
        case MergeBlockedEvent():
            return pull.merge_blocked(item, event, policy)
        case MergedEvent():
            return pull.merged(item, event)
        case PrClosedEvent():
            return pull.pr_closed(item, event)
        case IssueClosedEvent():
            return closed(item, event)
        case IssueUnapprovedEvent():
            return unapproved(item, event)
        case BudgetExceededEvent():
            return Outcome(replace(item, budget_exceeded=True))
        case IssueEscalatedEvent():
            return escalated(item, event)
        case IssueDoneEvent():
            return done(item)
        case _:
            return None


def approved(item: WorkItem, event: IssueApprovedEvent, policy: Policy) -> Outcome:
    """The `agent-ready` label: block, escalate, or assign the right dev agent (review a PR opened already)."""
    was = item.state
    item = replace(item, approved=True)
    if was in RESTARTABLE and not item.merged and not item.closed:
        # Approved again after a fix (config, budget, a person's help): a fresh start for the same issue and PR.
        item = replace(item, state=State.NEW, disputes=0, fix_attempts=0, review_heads=frozenset(), approved_sha=None)
        was = State.NEW
    if was is not State.NEW:
        return unexpected(item, f"approved while {was}")
    if policy.config_error is not None:
        return block(item, event.key, policy.config_error)
    if policy.escalation is not None:
        return escalate(item, event.key, policy.escalation)
    item = replace(item, state=State.APPROVED, stack=policy.stack, agent=policy.agent_for(policy.stack))
    if item.pr_number is not None and item.head_sha:
        return review(item, policy, event.key, State.PR_OPEN)
    return assign_dev(item, policy, event.key, State.APPROVED)


def assigned(item: WorkItem) -> Outcome:
    """Our own assignment came back on the stream: an approved item is now assigned."""
    if item.state is State.APPROVED:
        return Outcome(replace(item, state=State.ASSIGNED))
    return Outcome(item)


def work_started(item: WorkItem, event: WorkStartedEvent) -> Outcome:
    """The agent began (or went back to) the work; only the assignee is heard.

    The branch it names is shown, never worked on: anyone with a token can report, so a branch comes only from
    the router's naming or from an adopted PR.
    """
    if not from_assignee(item, event.source):
        return unexpected(item, f"work started by {event.source}, who does not hold the item "
                                f"(assignee: {assignee(item) or 'none'}); recorded, not acted on")
    reported = replace(item, reported_branch=event.data.branch)
    if item.state in DEVELOPING:
        return Outcome(replace(reported, state=State.IN_PROGRESS))
    if item.state is State.NEW:
        return unexpected(reported, "work started before the issue was approved")
    return unexpected(item, f"work started while {item.state}")


def closed(item: WorkItem, event: IssueClosedEvent) -> Outcome:
    """Completed: done once the PR merged, else no new work. Not planned or duplicate: cancelled."""
    reason = event.data.state_reason
    item = replace(item, closed=True)
    if reason == "completed":
        item = replace(item, closed_completed=True)
        if item.state in FINAL:
            return Outcome(item)
        return finish(item, event.key) if item.merged else Outcome(replace(item, state=State.CLOSED))
    if item.state in FINAL or item.merged:
        return unexpected(item, f"closed as {reason} while {item.state}")
    return cancel(item, event.key, f"issue closed as {reason.replace('_', ' ')}")


def unapproved(item: WorkItem, event: IssueUnapprovedEvent) -> Outcome:
    """The `agent-ready` label was removed: the work stops, unless it has already ended."""
    if item.state in HALTED - {State.ESCALATED, State.BLOCKED}:
        return Outcome(item)
    who = f" by {event.data.removed_by}" if event.data.removed_by else ""
    return cancel(item, event.key, f"agent-ready label removed{who}")


def escalated(item: WorkItem, event: IssueEscalatedEvent) -> Outcome:
    """An agent asked for a human (the router's own escalations only confirm what it decided).

    Only the item's current assignee may hand it to people; anyone else's escalation is recorded, not acted on.
    """
    if event.source == ROUTER or item.state in HALTED:
        return Outcome(item)
    if not from_assignee(item, event.source):
        return unexpected(item, f"escalation by {event.source}, who does not hold the item "
                                f"(assignee: {assignee(item) or 'none'}); recorded, not acted on")
    return Outcome(replace(item, state=State.ESCALATED))


def done(item: WorkItem) -> Outcome:
    """The merger says the item's work is finished."""
    if item.state is State.CANCELLED:
        return unexpected(item, "done after it was cancelled")
    return Outcome(replace(item, state=State.DONE))
