"""Events about one work item, built with the real contract classes, and a way to feed them to `decide`."""

from collections.abc import Iterable
from typing import Any, TypeVar

from rig_contracts import Envelope, Event
from rig_contracts.catalogue import (
    AgentHeartbeatEvent,
    BudgetExceededEvent,
    ChecksCompletedEvent,
    IssueApprovedEvent,
    IssueAssignedEvent,
    IssueClosedEvent,
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
from rig_workflow import Block, Cancel, Command, Decision, Escalate, Policy, WorkItem, decide

REPO = "acme/shop"
NUMBER = 12
SUBJECT = f"{REPO}#{NUMBER}"
PR = 40
BRANCH = "rig/12-fix-cart"
A, B, C, D = "a" * 40, "b" * 40, "c" * 40, "d" * 40
DEV_BOT = "rig-dev[bot]"
POLICY = Policy(stack="python", pr_authors=(DEV_BOT,), review_login="review-e")
E = TypeVar("E", bound=Envelope)


def _issue(cls: type[E], key: str, source: str = "ingest", **data: Any) -> E:
    return cls.of(source=source, subject=SUBJECT, key=key, data={"repo": REPO, "number": NUMBER, **data})


def _pull(cls: type[E], key: str, source: str = "ingest", **data: Any) -> E:
    return cls.of(source=source, subject=SUBJECT, key=key, data={"repo": REPO, "pr_number": PR, **data})


def approved(key: str = "label:1") -> IssueApprovedEvent:
    return _issue(IssueApprovedEvent, key, title="Fix the cart", labels=("agent-ready",))


def unapproved(key: str = "unlabel:1") -> IssueUnapprovedEvent:
    return _issue(IssueUnapprovedEvent, key, removed_by="bob")


def closed(reason: str = "completed", key: str | None = None) -> IssueClosedEvent:
    return _issue(IssueClosedEvent, key or f"closed:{reason}", state_reason=reason)


def assigned(attempt: int = 1) -> IssueAssignedEvent:
    return _issue(IssueAssignedEvent, f"assigned:{attempt}", source="router", agent="dev-e-python",
                  stack="python", assignment_id=f"asg-{attempt}", attempt=attempt)


def started(key: str = "started:1", branch: str = BRANCH) -> WorkStartedEvent:
    return _issue(WorkStartedEvent, key, source="agent:dev-e-python", agent="dev-e-python", branch=branch)


def escalated(source: str = "agent:dev-e-python") -> IssueEscalatedEvent:
    return _issue(IssueEscalatedEvent, f"escalated:{source}", source=source, reason="stuck")


def budget(scope: str = "issue") -> BudgetExceededEvent:
    return BudgetExceededEvent.of(source="costs", subject=SUBJECT, key=f"budget:{scope}",
                                  data={"scope": scope, "repo": REPO, "number": NUMBER, "limit_usd": 5,
                                        "spent_usd": 5.2})


def pr_created(head: str = A, *, pr: int = PR, author: str = DEV_BOT, head_repo: str = REPO,
               head_ref: str = BRANCH) -> PrCreatedEvent:
    """The PR opened, by default by the dev App from a branch of the base repository (so the item adopts it)."""
    key = "pr:opened" if pr == PR else f"pr:opened:{pr}"
    return PrCreatedEvent.of(source="ingest", subject=SUBJECT, key=key, data={
        "repo": REPO, "pr_number": pr, "issue_number": NUMBER, "head_sha": head, "head_ref": head_ref,
        "base_ref": "main", "author": author, "head_repo": head_repo})


def review_assigned(head: str = A, round_: int = 1) -> ReviewAssignedEvent:
    return _pull(ReviewAssignedEvent, f"review-assigned:{head[:1]}", source="router", head_sha=head, round=round_,
                 assignment_id=f"rv-{round_}")


def pr_updated(head: str = B, before: str = A, key: str | None = None, *, pr: int = PR, author: str = DEV_BOT,
               head_repo: str = REPO) -> PrUpdatedEvent:
    key = key or f"push:{head[:1]}" + ("" if pr == PR else f":{pr}")
    return PrUpdatedEvent.of(source="ingest", subject=SUBJECT, key=key, data={
        "repo": REPO, "pr_number": pr, "head_sha": head, "before_sha": before, "author": author,
        "head_repo": head_repo})


def passed(head: str = A, review_id: int = 1, reviewer: str = "review-e", **data: Any) -> ReviewPassedEvent:
    return _pull(ReviewPassedEvent, f"review:{review_id}", review_id=review_id, commit_id=head, reviewer=reviewer,
                 **data)


def disputed(head: str = A, review_id: int = 2, feedback: str = "Handle the empty cart.", reviewer: str = "review-e",
             **data: Any) -> ReviewDisputedEvent:
    return _pull(ReviewDisputedEvent, f"review:{review_id}", review_id=review_id, commit_id=head,
                 reviewer=reviewer, feedback=feedback, **data)


def merge_requested(head: str = A) -> MergeRequestedEvent:
    return _pull(MergeRequestedEvent, f"merge-request:{head[:1]}", source="merger", head_sha=head,
                 requested_by="router")


def merge_blocked(
    reason: str = "conflict", head: str = A, detail: str = "", key: str | None = None
) -> MergeBlockedEvent:
    return _pull(MergeBlockedEvent, key or f"blocked:{reason}:{head[:1]}", source="merger", reason=reason,
                 head_sha=head, detail=detail)


def merged(sha: str = A) -> MergedEvent:
    return _pull(MergedEvent, "pr:merged", sha=sha, merge_sha="f" * 40)


def pr_closed() -> PrClosedEvent:
    return _pull(PrClosedEvent, "pr:closed")


def heartbeat() -> AgentHeartbeatEvent:
    return AgentHeartbeatEvent.of(source="agent:dev-e-python", subject=SUBJECT, key="hb:1",
                                  data={"agent": "dev-e-python", "current_task": SUBJECT})


def checks(sha: str = A) -> ChecksCompletedEvent:
    return ChecksCompletedEvent.of(source="ingest", subject=SUBJECT, key=f"checks:{sha[:1]}",
                                   data={"repo": REPO, "sha": sha, "conclusion": "success", "pr_number": PR})


def run(
    events: Iterable[Any], policy: Policy = POLICY, item: WorkItem | None = None
) -> tuple[Any, list[Command], list[Decision]]:
    """Feed `events` in order; return the final item, every command, and every decision."""
    commands: list[Command] = []
    decisions: list[Decision] = []
    for event in events:
        decision = decide(item, event, policy)
        item = decision.item
        commands.extend(decision.commands)
        decisions.append(decision)
    return item, commands, decisions


def kinds(commands: Iterable[Command]) -> list[str]:
    """The commands' class names, in order."""
    return [type(c).__name__ for c in commands]


def reason_of(command: Command) -> str:
    """The reason a cancel, escalation or block gives."""
    assert isinstance(command, Cancel | Escalate | Block), command
    return command.reason


def review_loop_to_approval() -> list[Event]:
    """Approve, assign, start, open the PR at A, review it (echo), approve A."""
    return [approved(), assigned(), started(), pr_created(A), review_assigned(A), passed(A)]
