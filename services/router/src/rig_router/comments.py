"""Comments on GitHub issues, posted after the decision that asked for them committed (docs/design.md section 4).

The decision writes a `comments` row in its transaction; this job posts pending rows through the client's
`comment_once`, which looks for the row's hidden marker first. A crash before posting leaves the row pending
(posted on restart); a crash after posting and before marking it finds the marker and does not post again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Sequence

import asyncpg
from prometheus_client import Counter

from rig_github import GitHubClient, GitHubError
from rig_router.emit import Comment
from rig_service.faults import NO_FAULTS, FaultPoints
from rig_service.waiting import wait_set

log = logging.getLogger(__name__)

POSTED = Counter("rig_router_comments_total", "Comments handled", ["outcome"])
_MARKER_SAFE = re.compile(r"^[A-Za-z0-9_.:/#@+=-]{1,180}$")


def marker_key(key: str) -> str:
    """The comment's marker key: `router:` and the decision's key (hashed when it has other characters)."""
    safe = key if _MARKER_SAFE.match(key) else hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"router:{safe}"


async def insert_comments(conn: asyncpg.Connection, comments: Sequence[Comment]) -> None:
    """Record comments to post, in the transaction of the decision that asked for them (once per key)."""
    if comments:
        await conn.executemany(
            "INSERT INTO comments (key, repo, number, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            [(c.key, c.repo, c.number, c.body) for c in comments])


class CommentPoster:
    """Posts pending comments: woken after each commit that wrote some, and retried every `retry_s`."""

    def __init__(self, github: GitHubClient | None, retry_s: float = 5.0, batch: int = 50) -> None:
        self._github = github
        self._retry_s = retry_s
        self._batch = batch
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Post soon: a transaction just committed comments."""
        self._wake.set()

    async def post_pending(self, pool: asyncpg.Pool, faults: FaultPoints = NO_FAULTS) -> int:
        """Post what is pending now; return how many were posted (or found posted already)."""
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT key, repo, number, body FROM comments WHERE posted_at IS NULL "
                                    "ORDER BY created_at LIMIT $1", self._batch)
        done = 0
        for row in rows:
            if self._github is None:
                POSTED.labels("no github").inc()
                log.warning("comment %s on %s#%s not posted: no GitHub credentials for the conductor role",
                            row["key"], row["repo"], row["number"])
                continue
            try:
                result = await self._github.comment_once(row["repo"], row["number"], marker_key(row["key"]),
                                                         row["body"])
            except GitHubError as error:
                POSTED.labels("failed").inc()
                log.warning("comment %s on %s#%s failed (%s); retrying in %.0fs", row["key"], row["repo"],
                            row["number"], error, self._retry_s)
                async with pool.acquire() as conn:
                    await conn.execute("UPDATE comments SET attempts = attempts + 1, last_error = $2 WHERE key = $1",
                                       row["key"], str(error)[:2000])
                continue
            POSTED.labels("posted" if result.posted else "found").inc()
            faults.reach("router.after_comment")
            async with pool.acquire() as conn:
                await conn.execute("UPDATE comments SET posted_at = now(), url = $2, attempts = attempts + 1 "
                                   "WHERE key = $1", row["key"], result.html_url)
            done += 1
        return done

    async def run(self, pool: asyncpg.Pool, faults: FaultPoints = NO_FAULTS) -> None:
        """Post pending comments for the service's lifetime; closes the GitHub client when cancelled."""
        try:
            while True:
                try:
                    await self.post_pending(pool, faults)
                except (OSError, asyncpg.PostgresError) as error:
                    log.warning("posting comments failed (%s); retrying in %.0fs", error, self._retry_s)
                self._wake.clear()
                await wait_set(self._wake, self._retry_s)
        finally:
            if self._github is not None:
                await self._github.aclose()
