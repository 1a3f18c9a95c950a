"""The router's consumer of `rig:events`: read policies first, then decide and write everything in one commit.

Per batch: (1) outside any transaction, read `.rig-agent.yaml` for each ISSUE_APPROVED not handled yet (GitHub
I/O never holds a transaction open); (2) in one transaction, record the event ids (inbox), run the state machine
per event, store the items, their history, the assignment rows, the comments to post and the outbox rows;
(3) after the commit, wake the comment poster. A crash before the commit redoes the batch; after it, the inbox
drops the redelivered events and the relay and the poster finish what the commit recorded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import asyncpg
from prometheus_client import Counter

from rig_bus import Delivery
from rig_contracts import Event
from rig_contracts.catalogue import (
    AgentHeartbeatEvent,
    BudgetExceededEvent,
    IssueApprovedEvent,
    MergedEvent,
    PrCreatedEvent,
    PrUpdatedEvent,
    ReviewDisputedEvent,
    ReviewPassedEvent,
    RunFinishedEvent,
    RunStartedEvent,
    RunStepEvent,
    WorkStartedEvent,
)
from rig_contracts.reviewers import Reviewers
from rig_db import outbox
from rig_db.inbox import claim_new, unique_events
from rig_kit import ServiceKit
from rig_router import assignments, projection
from rig_router.comments import CommentPoster, insert_comments
from rig_router.config import ConfigReading, RepoConfig, policy_for
from rig_router.config_source import ConfigSource
from rig_router.emit import Assignment, Effects, Emitter
from rig_router.projection import HistoryRow, ItemRow
from rig_router.queueing import Limits, admit
from rig_workflow import Decision, Policy, WorkItem, decide
from rig_workflow.domain import from_assignee
from rig_workflow.domain_model import HALTED

log = logging.getLogger(__name__)

EVENTS = Counter("rig_router_events_total", "Events the router handled, by what they did", ["type", "outcome"])
ANOMALIES = Counter("rig_router_anomalies_total", "Unexpected or out-of-order events, recorded", ["type"])
DUPLICATES = Counter("rig_router_duplicates_total", "Events whose key was already acted on", ["type"])
DECISIONS = Counter("rig_router_decisions_total", "Decisions made", ["kind"])

PROGRESS = (WorkStartedEvent, AgentHeartbeatEvent, RunStartedEvent, RunStepEvent, RunFinishedEvent)
"""Events that show the holder of an item's assignment is working on it (its lease counts from them)."""
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PRIORITY = re.compile(r"^(?:priority|prio|p)[:/ -]?\s*(?P<value>\S+)$", re.IGNORECASE)


@dataclass
class Batch:
    """What one batch changed, written at its end."""

    rows: dict[str, ItemRow] = field(default_factory=dict)
    history: list[HistoryRow] = field(default_factory=list)
    effects: Effects = field(default_factory=Effects)
    assignment_effects: list[Effects] = field(default_factory=list)
    """Each event's changes to the assignment rows, applied in order when the batch is written."""
    spent: set[str] = field(default_factory=set)
    """Repositories whose daily budget is spent today: no new assignments."""
    progress: list[tuple[str, str]] = field(default_factory=list)
    """(subject, agent) of work that showed progress: leases count from now."""


class Router:
    """The batch handler of `rig:events` (the kit's live handler)."""

    def __init__(self, kit: ServiceKit, source: ConfigSource, emitter: Emitter, poster: CommentPoster,
                 limits: Limits | None = None, pr_authors: Sequence[str] = (),
                 reviewers: Reviewers | None = None) -> None:
        self._kit = kit
        self._pr_authors = tuple(pr_authors)
        """Whose PRs items adopt (settings, not the stored policy: a change of settings applies at once)."""
        self._reviewers = reviewers or Reviewers()
        self._limits = limits or Limits()
        self._source = source
        self._emitter = emitter
        self._poster = poster

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        """Handle one batch atomically (see the module docstring)."""
        events = unique_events(deliveries)  # an unreadable entry fails the batch and ends in rig:dead
        readings = await self._read_policies(events)
        batch = Batch()
        async with self._kit.pool.acquire() as conn, conn.transaction():
            fresh_ids = await claim_new(conn, [e.id for e in events])
            fresh = [e for e in events if e.id in fresh_ids]
            await self._kit.note_revocations(conn, fresh)
            batch.rows = await projection.load_many(conn, sorted({e.subject for e in fresh}))
            batch.spent = await _spent_repos(conn, fresh)
            for event in fresh:
                await self._apply(conn, event, readings, batch)
            await self._write(conn, batch)
        self._kit.faults.reach("router.after_commit")
        if batch.effects.comments:
            self._poster.kick()

    async def _read_policies(self, events: Sequence[Event]) -> dict[str, ConfigReading]:
        approvals = [e for e in events if isinstance(e, IssueApprovedEvent)]
        if not approvals:
            return {}
        async with self._kit.pool.acquire() as conn:
            seen = {r["event_id"] for r in await conn.fetch(
                "SELECT event_id::text FROM inbox WHERE event_id = ANY($1::uuid[])", [e.id for e in approvals])}
        readings: dict[str, ConfigReading] = {}
        for event in approvals:
            if event.id not in seen:
                readings[event.id] = await self._source.read(self._kit.pool, event.data.repo)
        return readings

    async def _apply(self, conn: asyncpg.Connection, event: Event, readings: dict[str, ConfigReading],
                     batch: Batch) -> None:
        if isinstance(event, PROGRESS):
            batch.progress.append((event.subject, event.source.removeprefix("agent:")))
        row = batch.rows.get(event.subject)
        policy = row.policy if row else Policy()
        reading = readings.get(event.id)
        if isinstance(event, IssueApprovedEvent) and reading is not None:
            data = event.data
            policy = policy_for(reading, data.title, data.body, data.labels, path=self._source.path)
        # Whose reviews count comes from settings, never from the stored policy or the repository's file.
        policy = replace(policy, review_login=self._reviewers.review_login,
                         maintainer_reviews=self._reviewers.maintainers)
        before = row.item if row else None
        spent = (row.item.repo if row else event.subject.split("#", 1)[0]) in batch.spent
        decision = decide(before, event, replace(policy, repo_budget_spent=spent or policy.repo_budget_spent,
                                                 pr_authors=self._pr_authors))
        if decision.item is None or (decision.item is before and not decision.duplicate and not decision.anomaly):
            return  # not a work item, or a type the state machine does not route on
        row = row or ItemRow(decision.item)
        row.item = decision.item
        if isinstance(event, IssueApprovedEvent) and reading is not None and not decision.duplicate:
            row.policy = policy
            row.details = _details(event, reading)
        batch.rows[event.subject] = row
        effects = Effects()
        words = self._emitter.effects(row, event, decision.commands, effects)
        if not decision.duplicate:
            self._bookkeep(event, decision.item, before, effects)
        batch.assignment_effects.append(effects)
        batch.effects.outbox += effects.outbox
        batch.effects.comments += effects.comments
        batch.history.append(_recorded(event, decision, before, words))

    def _bookkeep(self, event: Event, item: WorkItem, before: WorkItem | None, effects: Effects) -> None:
        """Which open assignments this event starts or ends."""
        if item.state in HALTED and (before is None or before.state not in HALTED):
            effects.cancelled.append(item.subject)
        match event:
            case WorkStartedEvent() if from_assignee(item, event.source):  # anyone else's is only recorded
                named = event.data.assignment_id
                effects.started.append((item.subject, named if named and _UUID.match(named) else None))
            case RunStartedEvent() | RunStepEvent() if from_assignee(item, event.source):
                effects.started.append((item.subject, None))  # the public runtime's start: it sends no WORK_STARTED
            case PrCreatedEvent() | PrUpdatedEvent():
                effects.finished.append((item.subject, "dev"))
            case ReviewPassedEvent(data=d) | ReviewDisputedEvent(data=d):
                if self._reviewers.counts(d.reviewer, d.author_association, d.pr_author):
                    effects.finished.append((item.subject, "review"))  # an outsider's review ends no assignment
            case MergedEvent():
                effects.cancelled.append(item.subject)
            case _:
                pass

    async def _write(self, conn: asyncpg.Connection, batch: Batch) -> None:
        await _assignments(conn, batch.assignment_effects)
        new = [row for effects in batch.assignment_effects for row in effects.assignments]
        await admit(conn, self._limits, new, batch.effects.outbox)
        await projection.save(conn, list(batch.rows.values()))
        await projection.record(conn, batch.history)
        await insert_comments(conn, batch.effects.comments)
        await outbox.add(conn, batch.effects.outbox)
        if batch.progress:
            await assignments.progressed(conn, batch.progress)


async def _assignments(conn: asyncpg.Connection, per_event: Sequence[Effects]) -> None:
    """The batch's changes to the assignment rows, event by event in order; runs of new ones go in one call."""
    pending: list[Assignment] = []
    for effects in per_event:
        if effects.started or effects.finished or effects.cancelled:
            await assignments.insert(conn, pending)
            pending = []
        for subject, assignment_id in effects.started:
            await assignments.started(conn, subject, assignment_id)
        for subject, kind in effects.finished:
            await assignments.finished(conn, subject, kind)
        await assignments.close_open(conn, sorted(set(effects.cancelled)))
        pending += effects.assignments
    await assignments.insert(conn, pending)

def _recorded(event: Event, decision: Decision, before: WorkItem | None, words: Sequence[str]) -> HistoryRow:
    """Count what the event did and say it in the item's history."""
    assert decision.item is not None
    outcome = "duplicate" if decision.duplicate else "anomaly" if decision.anomaly else "applied"
    EVENTS.labels(event.type, outcome).inc()
    if decision.duplicate:
        DUPLICATES.labels(event.type).inc()
    if decision.anomaly:
        ANOMALIES.labels(event.type).inc()
        log.info("anomaly on %s: %s", event.subject, decision.anomaly)
    for command in decision.commands:
        DECISIONS.labels(type(command).__name__).inc()
    return HistoryRow(event.subject, event.id, event.type, event.key, outcome, before.state.value if before else None,
                      decision.item.state.value, decision.anomaly, tuple(words))


async def _spent_repos(conn: asyncpg.Connection, events: Sequence[Event]) -> set[str]:
    """Record the batch's spent repository budgets; the batch's repositories whose budget is spent today."""
    for event in events:
        if isinstance(event, BudgetExceededEvent) and event.data.scope == "repo_day":
            await conn.execute(
                "INSERT INTO repo_budgets (repo, day, limit_usd, spent_usd) VALUES ($1, ($2::timestamptz AT TIME "
                "ZONE 'UTC')::date, $3, $4) ON CONFLICT (repo, day) DO UPDATE SET spent_usd = excluded.spent_usd",
                event.data.repo, event.at, event.data.limit_usd, event.data.spent_usd)
    repos = sorted({e.subject.split("#", 1)[0].split("@", 1)[0] for e in events})
    rows = await conn.fetch("SELECT repo FROM repo_budgets WHERE repo = ANY($1::text[]) "
                            "AND day = (now() AT TIME ZONE 'UTC')::date", repos)
    return {r["repo"] for r in rows}


def _details(event: IssueApprovedEvent, reading: ConfigReading) -> dict[str, object]:
    """What the assignment entries carry besides the item: the issue's text and the config's commands."""
    data = event.data
    config = reading.config
    priority = next((m["value"] for label in data.labels if (m := _PRIORITY.match(label))), "")
    config = config or RepoConfig()
    return {"title": data.title, "body": data.body, "labels": list(data.labels), "priority": priority,
            "testCommand": config.test_command, "buildCommand": config.build_command, "tools": list(config.tools),
            "config_sha": reading.sha}

