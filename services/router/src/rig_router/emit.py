"""Decisions into effects: the events for `rig:events`, the assignment entries, the comments (docs/design.md 2-4, 9).

An assignment is two outbox rows published by the same relay: the entry on `assignments:{agent}` with its wake
signal (one idempotent publish, keyed by the assignment's own id) and the ISSUE_ASSIGNED / REVIEW_ASSIGNED on
`rig:events`. Pull-mode pools (ibuild-e) get no stream entry: they take the assignment row over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rig_contracts import Envelope, Event, Names, new_event_id
from rig_contracts.catalogue import (
    IssueAssignedEvent,
    IssueBlockedEvent,
    IssueCancelledEvent,
    IssueEscalatedEvent,
    ReviewAssignedEvent,
)
from rig_db.outbox import OutboxEntry
from rig_router.projection import ItemRow
from rig_workflow import AssignDev, AssignReview, Block, Cancel, Command, Done, Escalate, RequestMerge

SOURCE = "router"
PULL_AGENTS = frozenset({"ibuild-e"})
"""Pools that ask for work over HTTP instead of reading a stream."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """One assignment row: who gets what, with the flat fields the agent reads."""

    id: str
    subject: str
    agent: str
    kind: str
    attempt: int
    fields: dict[str, str]
    outbox: tuple[OutboxEntry, ...] = ()
    """What publishing it takes: its stream entry (push pools) and its event; held back while it is queued."""

    @property
    def repo(self) -> str:
        """The item's repository, `owner/name`."""
        return self.subject.split("#", 1)[0]


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment to post on the issue once, identified by its marker key."""

    key: str
    repo: str
    number: int
    body: str


@dataclass
class Effects:
    """Everything one batch decided, written in its transaction."""

    outbox: list[OutboxEntry] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    """Subjects whose open assignments end now (cancelled, escalated, blocked, merged)."""
    started: list[tuple[str, str | None]] = field(default_factory=list)
    """(subject, assignment id) of assignments now being worked on."""
    finished: list[tuple[str, str]] = field(default_factory=list)
    """(subject, kind) of assignments whose work arrived (a PR, a review)."""


FEEDBACK_MARK = "\n\n---\n## The review's text (changes requested)\n\n"
"""What separates the issue's text from the review's in a dispute or fix assignment's `body`."""


def with_feedback(body: str, feedback: str) -> str:
    """The issue's text, then the review's, marked as such: the `body` a fix assignment carries."""
    return f"{body}{FEEDBACK_MARK}{feedback}"


@dataclass(frozen=True)
class Emitter:
    """Turns the state machine's commands into effects."""

    names: Names
    maintainers: Sequence[str] = ()
    config_path: str = ".rig-agent.yaml"

    def effects(self, row: ItemRow, cause: Event | None, commands: Sequence[Command], into: Effects) -> list[str]:
        """Add the effects of `commands` to `into`; return a word per command for the history.

        `cause` is the event that led to them (for the chain), None for the router's own timers (leases).
        """
        said = []
        for command in commands:
            said.append(self._one(row, cause, command, into))
        return said

    def _one(self, row: ItemRow, cause: Event | None, command: Command, into: Effects) -> str:  # noqa: PLR0911
        item = row.item
        own = {"source": SOURCE, "subject": item.subject, "key": command.key}
        chain = cause.caused(**own) if cause is not None else own
        ref = {"repo": item.repo, "number": item.number}
        match command:
            case AssignDev():
                fields = self._dev_fields(row, command)
                self._assign(into, item.subject, command.agent, "dev", command.attempt, fields,
                             lambda asg: IssueAssignedEvent.of(**chain, data={
                                 **ref, "agent": command.agent, "stack": command.stack, "assignment_id": asg,
                                 "attempt": command.attempt, **_budgets(row)}))
                return f"assign {command.agent} (attempt {command.attempt}, {command.reason})"
            case AssignReview():
                fields = self._review_fields(row, command)
                self._assign(into, item.subject, command.agent, "review", command.round, fields,
                             lambda asg: ReviewAssignedEvent.of(**chain, data={
                                 "repo": item.repo, "pr_number": command.pr_number, "head_sha": command.head_sha,
                                 "round": command.round, "agent": command.agent, "assignment_id": asg}))
                return f"review {command.head_sha[:12]} (round {command.round})"
            case Cancel():
                into.outbox.append(self._event(IssueCancelledEvent.of(**chain, data={**ref, "reason": command.reason})))
                into.cancelled.append(item.subject)
                return f"cancel: {command.reason}"
            case Escalate():
                event = IssueEscalatedEvent.of(**chain, data={**ref, "reason": command.reason, "to": command.to})
                into.outbox.append(self._event(event))
                into.cancelled.append(item.subject)
                if command.to is None:
                    into.comments.append(Comment(command.key, item.repo, item.number, self._escalation(command)))
                    return f"escalate: {command.reason}"
                to, stack, attempt = command.to, item.stack or "base", item.attempt + 1
                fields = self._dev_fields(row, AssignDev(command.key, to, stack, attempt, command.reason, item.branch))
                self._assign(into, item.subject, to, "dev", attempt, fields, lambda asg: IssueAssignedEvent.of(
                    **chain, data={**ref, "agent": to, "stack": stack, "assignment_id": asg, "attempt": attempt,
                                   **_budgets(row)}))
                return f"escalate to {to}: {command.reason}"
            case Block():
                into.outbox.append(self._event(IssueBlockedEvent.of(**chain, data={**ref, "reason": command.reason})))
                into.cancelled.append(item.subject)
                into.comments.append(Comment(command.key, item.repo, item.number, self._blocked(command)))
                return f"block: {command.reason}"
            case RequestMerge():
                # review-e asks the merger itself (POST /api/merge); MERGE_REQUESTED is the merger's event.
                return f"merge of {command.head_sha[:12]} is review-e's to request"
            case Done():
                # ISSUE_DONE is the merger's event: the router only records the item as done.
                return "done (ISSUE_DONE is the merger's)"

    def _assign(self, into: Effects, subject: str, agent: str, kind: str, attempt: int, fields: dict[str, str],
                event_of: Callable[[str], Envelope]) -> None:
        """The assignment row, its stream entry with the wake signal (push pools), and its event on `rig:events`."""
        assignment_id = new_event_id()
        fields = {**fields, "assignmentId": assignment_id, "kind": kind}
        publish: list[OutboxEntry] = []
        if agent not in PULL_AGENTS:
            # The entry carries the event under the assignment's own id: one idempotent publish per assignment.
            entry = event_of(assignment_id).model_copy(update={"id": assignment_id})
            publish.append(OutboxEntry(entry, self.names.assignments(agent), fields, self.names.signal(agent)))
        publish.append(self._event(event_of(assignment_id)))
        into.assignments.append(Assignment(assignment_id, subject, agent, kind, attempt, fields, tuple(publish)))
        into.outbox += publish

    def _event(self, event: Envelope) -> OutboxEntry:
        return OutboxEntry(event, self.names.events)

    def _common(self, row: ItemRow) -> dict[str, str]:
        details = row.details
        return {"repo": row.item.repo, "title": str(details.get("title", "")),
                "priority": str(details.get("priority", "")), "testCommand": str(details.get("testCommand", "")),
                "buildCommand": str(details.get("buildCommand", "")),
                "tools": ",".join(details.get("tools", ())), "body": str(details.get("body", "")),
                "subject": row.item.subject}

    def _dev_fields(self, row: ItemRow, command: AssignDev) -> dict[str, str]:
        common = self._common(row)
        fields = {**common, "issueNumber": str(row.item.number), "stack": command.stack,
                  "attempt": str(command.attempt), "reason": command.reason, "branch": command.branch,
                  "feedback": command.feedback, "issueBody": common["body"]}
        if command.feedback:  # the public runtime builds its resumed prompt from `body` alone (docs/design.md 9)
            fields["body"] = with_feedback(common["body"], command.feedback)
        return fields

    def _review_fields(self, row: ItemRow, command: AssignReview) -> dict[str, str]:
        return {**self._common(row), "issueNumber": str(command.pr_number), "stack": row.item.stack or "base",
                "headSha": command.head_sha, "round": str(command.round), "branch": row.item.branch,
                "linkedIssue": str(row.item.number)}

    def _mention(self) -> str:
        return " ".join(f"@{login.lstrip('@')}" for login in self.maintainers) or "Maintainers"

    def _escalation(self, command: Escalate) -> str:
        return (f"{self._mention()}: this issue needs a person. rig-conductor stopped working on it because "
                f"{command.reason}.\n\nTo hand it back to the agents, deal with that, then remove the "
                "`agent-ready` label and add it again.")

    def _blocked(self, command: Block) -> str:
        if self.config_path not in command.reason:
            return f"rig-conductor stopped assigning work on this issue: {command.reason}."
        return (f"rig-conductor cannot work on this issue: {command.reason}\n\n"
                f"How to fix it: correct `{self.config_path}` on the default branch so that it matches the "
                "published schema (`docs/rig-agent.schema.json`; keys `stack`, `tools`, `testCommand`, "
                "`buildCommand`, `escalate`, `maxReviewRounds`, `maxFixAttempts`, `budget`), then remove the "
                "`agent-ready` label and add it again.")


def _budgets(row: ItemRow) -> dict[str, float]:
    """The file's caps for ISSUE_ASSIGNED, where it sets them (the costs service only tightens its own with them)."""
    caps = {"issue_budget_usd": row.policy.issue_budget_usd, "day_budget_usd": row.policy.day_budget_usd}
    return {name: value for name, value in caps.items() if value is not None}
