"""The moves every transition is made of: assign a dev agent or a review, escalate, block, cancel, finish."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rig_workflow.domain_model import (
    MAX_ANOMALIES_KEPT,
    AssignDev,
    AssignReview,
    Block,
    Cancel,
    Command,
    Done,
    Escalate,
    Policy,
    RequestMerge,
    State,
    WorkItem,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one handler made of one event, before the event's key is recorded."""

    item: WorkItem
    commands: tuple[Command, ...] = ()
    anomaly: str | None = None


def unexpected(item: WorkItem, why: str) -> Outcome:
    """The event does not fit the item's state: record why, change nothing else."""
    return Outcome(item, anomaly=why)


def with_anomaly(item: WorkItem, why: str) -> WorkItem:
    """`item` with one more anomaly counted (and the latest few kept word for word)."""
    kept = (*item.anomalies, why)[-MAX_ANOMALIES_KEPT:]
    return replace(item, anomalies=kept, anomaly_count=item.anomaly_count + 1)


def budget_spent(item: WorkItem, policy: Policy) -> bool:
    """True when the item's or its repository's budget allows no further assignment."""
    return item.budget_exceeded or policy.repo_budget_spent


def block(item: WorkItem, key: str, reason: str) -> Outcome:
    """Stop the item until someone acts, saying why."""
    return Outcome(replace(item, state=State.BLOCKED), (Block(f"{key}:block", reason),))


def escalate(item: WorkItem, key: str, reason: str) -> Outcome:
    """Hand the item to people, saying why."""
    return Outcome(replace(item, state=State.ESCALATED), (Escalate(f"{key}:escalate", reason),))


def cancel(item: WorkItem, key: str, reason: str) -> Outcome:
    """Stop the work for good."""
    return Outcome(replace(item, state=State.CANCELLED), (Cancel(f"{key}:cancel", reason),))


def finish(item: WorkItem, key: str) -> Outcome:
    """The PR merged and the issue closed as completed: the item is done."""
    done = Done(f"{key}:done", item.pr_number, item.merge_sha)
    return Outcome(replace(item, state=State.DONE), (done,))


def assign_dev(
    item: WorkItem, policy: Policy, key: str, state: State, *, reason: str = "new", feedback: str = ""
) -> Outcome:
    """Give the item to its dev agent pool (once more), entering `state`; blocked instead when the budget is spent."""
    if budget_spent(item, policy):
        return block(item, key, "budget spent: no further assignments")
    stack = item.stack or policy.stack
    agent = item.agent or policy.agent_for(stack)
    attempt = item.attempt + 1
    command = AssignDev(f"{key}:assign-dev", agent, stack, attempt, reason, item.branch, feedback)
    return Outcome(replace(item, state=state, stack=stack, agent=agent, attempt=attempt), (command,))


def review(item: WorkItem, policy: Policy, key: str, state: State) -> Outcome:
    """Have the current head reviewed (once per head), or ask for the merge if it is already approved."""
    if item.pr_number is None or not item.head_sha:
        return unexpected(item, "no PR head to review")
    if item.approved_sha == item.head_sha:
        merge = RequestMerge(f"{key}:merge", item.pr_number, item.head_sha)
        return Outcome(replace(item, state=State.APPROVED_FOR_MERGE), (merge,))
    if item.head_sha in item.review_heads:
        return Outcome(replace(item, state=State.IN_REVIEW))
    if budget_spent(item, policy):
        return block(item, key, "budget spent: no further assignments")
    round_ = item.disputes + 1
    command = AssignReview(f"{key}:assign-review", item.pr_number, item.head_sha, round_)
    reviewing = replace(item, state=state, review_round=round_, review_heads=item.review_heads | {item.head_sha})
    return Outcome(reviewing, (command,))
