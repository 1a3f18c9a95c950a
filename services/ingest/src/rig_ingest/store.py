"""Ingest's own tables (asyncpg): deliveries, pull request -> issue, head SHA -> pull request."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from rig_ingest.webhook import Known, PullLink, Wanted

_RECORD = """
INSERT INTO deliveries (guid, event, action, payload) VALUES ($1, $2, $3, $4::jsonb)
ON CONFLICT (guid) DO NOTHING RETURNING guid
"""

_HEADS = "SELECT sha, pr_number FROM heads WHERE repo = $1 AND sha = ANY($2::text[])"

_ISSUES = "SELECT pr_number, issue_number FROM pull_requests WHERE repo = $1 AND pr_number = ANY($2::int[])"

_LINK = """
INSERT INTO pull_requests (repo, pr_number, issue_number, head_sha) VALUES ($1, $2, $3, $4)
ON CONFLICT (repo, pr_number) DO UPDATE SET
    issue_number = coalesce(pull_requests.issue_number, excluded.issue_number),
    head_sha = excluded.head_sha, updated_at = now()
"""

_HEAD = """
INSERT INTO heads (repo, sha, pr_number) VALUES ($1, $2, $3)
ON CONFLICT (repo, sha) DO UPDATE SET pr_number = excluded.pr_number
"""


async def record_delivery(conn: asyncpg.Connection, guid: str, event: str, action: str | None,
                          payload_json: str) -> bool:
    """Store a delivery; False when its guid was stored before (a redelivery), which then changes nothing."""
    return await conn.fetchval(_RECORD, guid, event, action, payload_json) is not None


async def known(conn: asyncpg.Connection, wanted: Wanted) -> Known:
    """What earlier deliveries taught us about the PRs and SHAs a delivery names (repo compared in lower case)."""
    if not wanted.repo or not (wanted.pr_numbers or wanted.shas):
        return Known()
    repo = wanted.repo.lower()
    heads: dict[str, int] = {}
    if wanted.shas:
        heads = {row["sha"]: row["pr_number"] for row in await conn.fetch(_HEADS, repo, list(wanted.shas))}
    prs = set(wanted.pr_numbers) | set(heads.values())
    rows = await conn.fetch(_ISSUES, repo, list(prs)) if prs else []
    return Known(issues={row["pr_number"]: row["issue_number"] for row in rows}, heads=heads)


async def remember(conn: asyncpg.Connection, links: Sequence[PullLink]) -> None:
    """Record each PR's head and the issue it closes (the first issue recorded for a PR stays)."""
    for link in links:
        await conn.execute(_LINK, link.repo, link.pr_number, link.issue_number, link.head_sha)
        await conn.execute(_HEAD, link.repo, link.head_sha, link.pr_number)
