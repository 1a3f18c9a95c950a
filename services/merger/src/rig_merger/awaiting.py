"""Merge requests that arrive before their approval (docs/design.md section 9): recorded, then acted on or expired.

The public runtime's review-e asks `POST /api/merge {repo, prNumber}` as soon as it submitted its approval and
never retries, so its call can beat the REVIEW_PASSED webhook. Such a call is recorded as waiting for approval
(202); the REVIEW_PASSED that counts (review-e's, as for every approval) then records the merge request at the
approved SHA, exactly as if the call had come after it. Nothing is merged on the caller's word: without an
approval that counts, the wait expires with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from rig_contracts import Envelope, Names
from rig_contracts.catalogue import MergeRequestedEvent
from rig_db import outbox
from rig_merger import projection as db

SOURCE = "merger"


@dataclass(frozen=True, slots=True)
class Awaiting:
    """A merge asked for before its approval: its state and why."""

    repo: str
    pr_number: int
    requested_by: str
    state: str
    reason: str
    expires_at: str

    def describe(self) -> dict[str, object]:
        """As the API shows it."""
        return {"repo": self.repo, "pr_number": self.pr_number, "requested_by": self.requested_by,
                "state": "waiting_for_approval" if self.state == "awaiting" else self.state, "reason": self.reason,
                "expires_at": self.expires_at}


def _of(row: asyncpg.Record) -> Awaiting:
    return Awaiting(row["repo"], row["pr_number"], row["requested_by"], row["state"], row["reason"],
                    row["expires_at"].isoformat())


async def expire(conn: asyncpg.Connection) -> None:
    """Waits past their time end, with the reason."""
    await conn.execute(
        "UPDATE awaiting_approval SET state = 'expired', updated_at = now(), reason = 'no approval that counts "
        "arrived within ' || extract(epoch FROM expires_at - created_at)::int || 's of the merge request: ask "
        "again once the PR is approved' WHERE state = 'awaiting' AND expires_at <= now()")


async def record(conn: asyncpg.Connection, repo: str, pr_number: int, requested_by: str, wait: timedelta
                 ) -> Awaiting:
    """Record (or renew) a wait for the approval of `repo#pr_number`."""
    await expire(conn)
    row = await conn.fetchrow(
        "INSERT INTO awaiting_approval (repo_key, pr_number, repo, requested_by, expires_at) "
        "VALUES (lower($1), $2, $1, $3, now() + $4::interval) ON CONFLICT (repo_key, pr_number) DO UPDATE SET "
        "requested_by = excluded.requested_by, expires_at = excluded.expires_at, state = 'awaiting', "
        "reason = 'waiting for the approval', updated_at = now() RETURNING *", repo, pr_number, requested_by, wait)
    return _of(row)


async def find(conn: asyncpg.Connection, repo: str, pr_number: int) -> Awaiting | None:
    """The PR's wait for approval, if one was recorded."""
    await expire(conn)
    row = await conn.fetchrow("SELECT * FROM awaiting_approval WHERE repo_key = lower($1) AND pr_number = $2",
                              repo, pr_number)
    return _of(row) if row is not None else None


def merge_requested(repo: str, pr_number: int, sha: str, subject: str, requested_by: str,
                    **chain: object) -> Envelope:
    """The MERGE_REQUESTED the merger writes for a request it recorded."""
    return MergeRequestedEvent.of(source=SOURCE, subject=subject, key=f"merge-request:{repo}#{pr_number}@{sha}",
                                  data={"repo": repo, "pr_number": pr_number, "head_sha": sha,
                                        "requested_by": requested_by}, **chain)


async def approved(conn: asyncpg.Connection, names: Names, cause: Envelope, repo: str, pr_number: int,
                   sha: str) -> int:
    """An approval that counts arrived: a waiting request becomes a merge request at `sha`; 1 when one did."""
    await expire(conn)
    row = await conn.fetchrow(
        "UPDATE awaiting_approval SET state = 'acted', reason = 'approved at ' || $3, updated_at = now() "
        "WHERE repo_key = lower($1) AND pr_number = $2 AND state = 'awaiting' RETURNING *", repo, pr_number, sha)
    if row is None:
        return 0
    subject = cause.subject
    event = merge_requested(repo, pr_number, sha, subject, row["requested_by"], **cause.caused())
    _request, new = await db.record_request(conn, repo, pr_number, sha, subject, row["requested_by"], event.id)
    if new:
        await outbox.add(conn, [outbox.OutboxEntry(event, names.events)])
    return 1


async def stopped(conn: asyncpg.Connection, repo: str, pr_number: int) -> None:
    """The PR closed: nothing waits for its approval any more."""
    await conn.execute("UPDATE awaiting_approval SET state = 'stopped', reason = 'the PR was closed', "
                       "updated_at = now() WHERE repo_key = lower($1) AND pr_number = $2 AND state = 'awaiting'",
                       repo, pr_number)
