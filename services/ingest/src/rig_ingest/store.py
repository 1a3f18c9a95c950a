"""Ingest's own tables (asyncpg): deliveries, pull request -> issue, head SHA -> pull request.

A webhook costs at most two round trips: one read of what earlier deliveries taught us (only when the delivery
names PRs or SHAs), then one statement that stores the delivery, its links and its events together, or nothing
at all when the delivery was stored before. One statement is atomic by itself, so no BEGIN/COMMIT trips either.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from rig_db import outbox
from rig_ingest.webhook import Known, PullLink, Wanted

_KNOWN = """
WITH head AS (SELECT sha, pr_number FROM heads WHERE repo = $1 AND sha = ANY($2::text[]))
SELECT sha, pr_number, NULL::int AS issue_number FROM head
UNION ALL
SELECT NULL, pr_number, issue_number FROM pull_requests
WHERE repo = $1 AND (pr_number = ANY($3::int[]) OR pr_number IN (SELECT pr_number FROM head))
"""

_STORE = f"""
WITH delivery AS (
    INSERT INTO deliveries (guid, event, action, payload) VALUES ($1, $2, $3, $4::jsonb)
    ON CONFLICT (guid) DO NOTHING RETURNING guid
), pulls AS (
    INSERT INTO pull_requests (repo, pr_number, issue_number, head_sha)
    SELECT link.* FROM unnest($5::text[], $6::int[], $7::int[], $8::text[]) AS link, delivery
    ON CONFLICT (repo, pr_number) DO UPDATE SET
        issue_number = coalesce(pull_requests.issue_number, excluded.issue_number),
        head_sha = excluded.head_sha, updated_at = now()
), heads AS (
    INSERT INTO heads (repo, sha, pr_number)
    SELECT head.* FROM unnest($9::text[], $10::text[], $11::int[]) AS head, delivery
    ON CONFLICT (repo, sha) DO UPDATE SET pr_number = excluded.pr_number
), events AS (
    {outbox.insert_sql(12)} WHERE EXISTS (SELECT FROM delivery)
)
SELECT guid FROM delivery
"""
"""The delivery, then (only if it is new) the PRs' links, their heads and the events for the outbox."""


async def known(conn: asyncpg.Connection, wanted: Wanted) -> Known:
    """What earlier deliveries taught us about the PRs and SHAs a delivery names (repo compared in lower case)."""
    if not wanted.repo or not (wanted.pr_numbers or wanted.shas):
        return Known()
    rows = await conn.fetch(_KNOWN, wanted.repo.lower(), list(wanted.shas), list(wanted.pr_numbers))
    return Known(issues={row["pr_number"]: row["issue_number"] for row in rows if row["sha"] is None},
                 heads={row["sha"]: row["pr_number"] for row in rows if row["sha"] is not None})


async def store(conn: asyncpg.Connection, guid: str, event: str, action: str | None, payload_json: str,
                links: Sequence[PullLink], events: Sequence[outbox.OutboxEntry]) -> bool:
    """Store a delivery with its links and events; False when its guid was stored before, which changes nothing.

    Each PR and each head is written once (the last link naming it wins), as one statement may touch a row once.
    """
    pulls = list({(link.repo, link.pr_number): link for link in links}.values())
    heads = list({(link.repo, link.head_sha): link for link in links}.values())
    return await conn.fetchval(
        _STORE, guid, event, action, payload_json,
        [p.repo for p in pulls], [p.pr_number for p in pulls], [p.issue_number for p in pulls],
        [p.head_sha for p in pulls],
        [h.repo for h in heads], [h.head_sha for h in heads], [h.pr_number for h in heads],
        *outbox.columns(events)) is not None
