"""Assignment rows: written with each decision, closed when the item moves on, leased to pull-mode pools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg

from rig_contracts.names import AGENTS
from rig_router.emit import Assignment

OPEN = ("waiting", "leased", "running", "queued")
"""Statuses of an assignment still in someone's hands or queue."""

DISPATCHED = ("waiting", "leased", "running")
"""Statuses of an assignment handed out (published): what the concurrency limits count."""

_RANKS = {"critical": 0, "urgent": 0, "p0": 0, "high": 1, "p1": 1, "medium": 2, "p2": 2, "low": 3, "p3": 3}


def rank(priority: str) -> int:
    """Queue order of a priority label's value: 0 (critical) first, 2 for none or unknown, 3 (low) last."""
    return _RANKS.get(priority.strip().lower(), 2)


async def close_open(conn: asyncpg.Connection, subjects: Sequence[str], status: str = "closed") -> None:
    """End every open assignment of these items (cancelled, escalated, blocked)."""
    if subjects:
        await conn.execute("UPDATE assignments SET status = $2, closed_at = now() "
                           "WHERE subject = ANY($1::text[]) AND status = ANY($3::text[])",
                           list(subjects), status, list(OPEN))


_SUPERSEDE_AND_INSERT = """
WITH superseded AS (
    UPDATE assignments SET status = 'superseded', closed_at = now()
    WHERE subject = $2 AND kind = $4 AND status = ANY($7::text[])
)
INSERT INTO assignments (id, subject, agent, kind, attempt, fields, repo, priority)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $8, $9)
"""


async def insert(conn: asyncpg.Connection, rows: Sequence[Assignment]) -> None:
    """Record new assignments; an item's open assignment of the same kind is superseded by the new one."""
    if not rows:
        return
    # One statement per row (pipelined by executemany): rows for the same item apply in order.
    await conn.executemany(_SUPERSEDE_AND_INSERT, [(r.id, r.subject, r.agent, r.kind, r.attempt, json.dumps(r.fields),
                                                    list(OPEN), r.repo, rank(r.fields.get("priority", "")))
                                                   for r in rows])


async def started(conn: asyncpg.Connection, subject: str, assignment_id: str | None) -> None:
    """WORK_STARTED: the named assignment (else the item's open dev assignment) is running."""
    await conn.execute(
        "UPDATE assignments SET status = 'running', started_at = coalesce(started_at, now()) "
        "WHERE subject = $1 AND status = ANY($3::text[]) AND ($2::uuid IS NULL OR id = $2::uuid) AND kind = 'dev'",
        subject, assignment_id, ["waiting", "leased"])


async def taken(conn: asyncpg.Connection, assignment_ids: Sequence[str]) -> None:
    """Agents took these waiting assignments off their stream (the runtime sends no WORK_STARTED): running now."""
    await conn.execute(
        "UPDATE assignments SET status = 'running', started_at = coalesce(started_at, now()), "
        "progress_at = now() WHERE id = ANY($1::uuid[]) AND status = 'waiting'", list(assignment_ids))


async def progressed(conn: asyncpg.Connection, progress: Sequence[tuple[str, str]]) -> None:
    """Work on these items showed progress: by this agent's assignment, or any open one if the source is no pool."""
    await conn.executemany(
        "UPDATE assignments SET progress_at = now() WHERE subject = $1 AND status = ANY($3::text[]) "
        "AND (agent = $2 OR NOT $2 = ANY($4::text[]))", [(s, a, list(OPEN), list(AGENTS)) for s, a in progress])


async def finished(conn: asyncpg.Connection, subject: str, kind: str) -> None:
    """The work an item's open assignment of `kind` asked for arrived (a PR, a review)."""
    await conn.execute("UPDATE assignments SET status = 'done', closed_at = now() "
                       "WHERE subject = $1 AND kind = $2 AND status = ANY($3::text[])", subject, kind, list(OPEN))


async def lease_next(conn: asyncpg.Connection, agent: str, holder: str, lease: timedelta) -> dict[str, Any] | None:
    """Hand the oldest waiting assignment of `agent` (or one whose lease lapsed) to `holder` for `lease`."""
    row = await conn.fetchrow(
        "UPDATE assignments SET status = 'leased', leased_by = $2, lease_until = now() + $3::interval "
        "WHERE id = (SELECT id FROM assignments WHERE agent = $1 AND (status = 'waiting' OR "
        "(status = 'leased' AND lease_until < now())) ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "RETURNING id::text, subject, kind, attempt, fields::text, lease_until", agent, holder, lease)
    if row is None:
        return None
    return {"id": row["id"], "subject": row["subject"], "kind": row["kind"], "attempt": row["attempt"],
            "leaseUntil": row["lease_until"].isoformat(), **json.loads(row["fields"])}


async def settle(conn: asyncpg.Connection, assignment_id: str, agent: str, action: str) -> str | None:
    """Ack (the holder works on it) or release (back to the queue) a leased assignment; its status after, or None."""
    status, lease = ("running", "lease_until") if action == "ack" else ("waiting", "NULL")
    started_at = "coalesce(started_at, now())" if action == "ack" else "started_at"
    found: str | None = await conn.fetchval(
        f"UPDATE assignments SET status = $3, lease_until = {lease}, started_at = {started_at} "
        "WHERE id = $1::uuid AND agent = $2 AND status IN ('leased', 'running') RETURNING status",
        assignment_id, agent, status)
    return found


async def queue(conn: asyncpg.Connection) -> dict[str, dict[str, Any]]:
    """Per agent: waiting (depth), running, and the age of the oldest waiting assignment in seconds."""
    rows = await conn.fetch(
        "SELECT agent, count(*) FILTER (WHERE status IN ('waiting', 'leased', 'queued')) AS waiting, "
        "count(*) FILTER (WHERE status = 'queued') AS queued, count(*) FILTER (WHERE status = 'running') AS running, "
        "extract(epoch FROM now() - min(created_at) FILTER (WHERE status IN ('waiting', 'leased', 'queued'))) "
        "AS oldest FROM assignments WHERE status = ANY($1::text[]) GROUP BY agent ORDER BY agent", list(OPEN))
    return {r["agent"]: {"depth": r["waiting"], "waiting": r["waiting"], "queued": r["queued"],
                         "running": r["running"], "oldest_age_s": float(r["oldest"]) if r["oldest"] is not None
                         else None} for r in rows}
