"""The merger's projection of `rig:events`, through the inbox (one transaction per batch).

It records what each PR's events said, makes the PR's requests due again, and writes ISSUE_DONE once a PR's
MERGED arrives.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import asyncpg
from prometheus_client import Counter

from rig_contracts import Event, Names
from rig_contracts.catalogue import (
    ChecksCompletedEvent,
    IssueDoneEvent,
    MergedEvent,
    PrClosedEvent,
    PrCreatedEvent,
    PrLabelsChangedEvent,
    PrUpdatedEvent,
    ReviewDisputedEvent,
    ReviewPassedEvent,
)
from rig_contracts.reviewers import Reviewers
from rig_db import outbox
from rig_kit import Projection
from rig_merger import awaiting
from rig_merger import projection as db

log = logging.getLogger(__name__)

SOURCE = "merger"
"""The `source` of every event the merger writes."""

WOKEN = Counter("rig_merger_requests_woken_total", "Merge requests made due again by an event, by event type",
                ["type"])
IGNORED_REVIEWS = Counter("rig_merger_reviews_ignored_total",
                          "Reviews by someone whose review does not count (not review-e, a self-review)")
DONE = Counter("rig_merger_issues_done_total", "ISSUE_DONE events written")

_SUBJECT = re.compile(r"^(?P<repo>[^#@\s]+/[^#@\s]+)#(?P<number>[0-9]+)$")


def issue_number(subject: str, repo: str, pr_number: int) -> int | None:
    """The issue a PR's subject names, None when the subject is the PR itself (no issue was linked)."""
    found = _SUBJECT.match(subject)
    if found is None or found["repo"].lower() != repo.lower() or int(found["number"]) == pr_number:
        return None
    return int(found["number"])


def merger_projection(names: Names, reviewers: Reviewers | None = None) -> Projection:
    """The Projection for the kit: `apply` a batch of new events, `reset` for a rebuild.

    Only reviews that count (`reviewers`) set or clear a PR's approved SHA; the others are logged and counted.
    """
    trusted = reviewers or Reviewers()

    async def apply(conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        due = 0
        for event in events:
            if isinstance(event, ReviewPassedEvent | ReviewDisputedEvent) and not _counts(event, trusted):
                continue
            due += await _apply_one(conn, event, names)
            await _adopt_subject(conn, event)
        if due:
            await db.wake(conn)

    return Projection(apply=apply, reset=db.reset)


async def _apply_one(conn: asyncpg.Connection, event: Event, names: Names) -> int:  # noqa: PLR0911 - one per type
    """Project one event; return how many requests it made due."""
    match event:
        case ReviewPassedEvent(data=d):
            await db.approve(conn, d.repo, d.pr_number, event.subject, d.review_id, d.commit_id)
            # A merge asked for before this approval was projected is acted on now (the runtime never asks again).
            acted = await awaiting.approved(conn, names, event, d.repo, d.pr_number, d.commit_id)
            return acted + await _due(conn, event.type, d.repo, d.pr_number)
        case ReviewDisputedEvent(data=d):
            await db.dispute(conn, d.repo, d.pr_number, event.subject, d.review_id)
            return await _due(conn, event.type, d.repo, d.pr_number)
        case ChecksCompletedEvent(data=d):
            return await _due(conn, event.type, d.repo, d.pr_number, d.sha)
        case PrCreatedEvent(data=d):
            await db.note_pull(conn, d.repo, d.pr_number, event.subject, head_sha=d.head_sha)
            return 0
        case PrUpdatedEvent(data=d):
            await db.note_pull(conn, d.repo, d.pr_number, event.subject, head_sha=d.head_sha)
            return await _due(conn, event.type, d.repo, d.pr_number)
        case PrLabelsChangedEvent(data=d):
            await db.note_pull(conn, d.repo, d.pr_number, event.subject, labels=list(d.labels))
            return await _due(conn, event.type, d.repo, d.pr_number)
        case PrClosedEvent(data=d):
            await db.note_pull(conn, d.repo, d.pr_number, event.subject, closed=True)
            await db.finish_pr(conn, d.repo, d.pr_number, "stopped", None)
            await awaiting.stopped(conn, d.repo, d.pr_number)
            return 0
        case MergedEvent():
            await _merged(conn, event, names)
            return 0
        case _:
            return 0


def _counts(event: ReviewPassedEvent | ReviewDisputedEvent, reviewers: Reviewers) -> bool:
    """Whether a review may make (or void) the PR's approved SHA; the others are only logged and counted."""
    d = event.data
    refused = reviewers.refusal(d.reviewer, d.author_association, d.pr_author)
    if refused is not None:
        IGNORED_REVIEWS.inc()
        log.warning("%s#%d: %s (%s %s)", d.repo, d.pr_number, refused, event.type, event.key)
    return refused is None


async def _adopt_subject(conn: asyncpg.Connection, event: Event) -> None:
    """A request made before any event linked its PR to an issue takes the issue as its subject."""
    repo, number = getattr(event.data, "repo", None), getattr(event.data, "pr_number", None)
    if isinstance(repo, str) and isinstance(number, int) and issue_number(event.subject, repo, number) is not None:
        await db.adopt_subject(conn, repo, number, event.subject)


async def _due(conn: asyncpg.Connection, kind: str, repo: str, pr_number: int | None, sha: str | None = None) -> int:
    count = await db.make_due(conn, repo, pr_number, sha)
    if count:
        WOKEN.labels(kind).inc(count)
    return count


async def _merged(conn: asyncpg.Connection, event: MergedEvent, names: Names) -> None:
    """The PR merged: its requests are done, and its work item is done, once."""
    d = event.data
    await db.note_pull(conn, d.repo, d.pr_number, event.subject, closed=True, merge_sha=d.merge_sha)
    await db.finish_pr(conn, d.repo, d.pr_number, "done", d.merge_sha)
    number = issue_number(event.subject, d.repo, d.pr_number)
    if number is None:
        log.info("%s#%d merged with no linked issue: no ISSUE_DONE", d.repo, d.pr_number)
        return
    if not await db.mark_done(conn, event.subject, d.pr_number, d.merge_sha):
        return
    done = IssueDoneEvent.of(source=SOURCE, subject=event.subject, key=f"done:{event.subject}",
                             data={"repo": d.repo, "number": number, "pr_number": d.pr_number,
                                   "merge_sha": d.merge_sha}, **event.caused())
    await outbox.add(conn, [outbox.OutboxEntry(done, names.events)])
    DONE.inc()
