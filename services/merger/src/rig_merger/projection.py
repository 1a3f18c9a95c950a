"""The merger's SQL (asyncpg): merge requests, what the events said about each PR, and finished work items."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

WAKE_CHANNEL = "rig_merger"
"""Channel notified (on commit) when a request becomes due, so the worker wakes at once instead of polling."""

ACTIVE = ("waiting", "blocked")
"""Request states the worker still evaluates."""


@dataclass(frozen=True, slots=True)
class Request:
    """A merge request row, as the worker and the API read it."""

    id: int
    repo: str
    pr_number: int
    head_sha: str
    subject: str
    requested_by: str
    request_event_id: str
    state: str
    reason: str
    detail: str
    blocks: int
    unknown_tries: int
    error_tries: int
    merge_sha: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> Request:
        """A row of `merge_requests` as a Request."""
        return cls(row["id"], row["repo"], row["pr_number"], row["head_sha"], row["subject"], row["requested_by"],
                   str(row["request_event_id"]), row["state"], row["reason"], row["detail"], row["blocks"],
                   row["unknown_tries"], row["error_tries"], row["merge_sha"])


@dataclass(frozen=True, slots=True)
class Pull:
    """What the events said about a PR."""

    subject: str | None
    head_sha: str | None
    approved_sha: str | None
    closed: bool
    merge_sha: str | None


async def wake(conn: asyncpg.Connection) -> None:
    """Wake the worker once the caller's transaction commits."""
    await conn.execute("SELECT pg_notify($1, current_schema())", WAKE_CHANNEL)


async def record_request(conn: asyncpg.Connection, repo: str, pr_number: int, head_sha: str, subject: str,
                         requested_by: str, event_id: str) -> tuple[Request, bool]:
    """Record a merge request; (the request, True) when new, (the earlier one, False) when asked before."""
    row = await conn.fetchrow(
        "INSERT INTO merge_requests (repo, repo_key, pr_number, head_sha, subject, requested_by, request_event_id) "
        "VALUES ($1, lower($1), $2, $3, $4, $5, $6) ON CONFLICT (repo_key, pr_number, head_sha) DO NOTHING "
        "RETURNING *", repo, pr_number, head_sha, subject, requested_by, event_id)
    if row is not None:
        return Request.of(row), True
    found = await find_request(conn, repo, pr_number, head_sha)
    assert found is not None, "a conflicting row exists"
    return found, False


async def find_request(conn: asyncpg.Connection, repo: str, pr_number: int, head_sha: str) -> Request | None:
    """The request for this PR at this SHA, if any."""
    row = await conn.fetchrow("SELECT * FROM merge_requests WHERE repo_key = lower($1) AND pr_number = $2 "
                              "AND head_sha = $3", repo, pr_number, head_sha)
    return Request.of(row) if row else None


async def latest_request(conn: asyncpg.Connection, repo: str, pr_number: int) -> Request | None:
    """The most recent request for a PR, if any."""
    row = await conn.fetchrow("SELECT * FROM merge_requests WHERE repo_key = lower($1) AND pr_number = $2 "
                              "ORDER BY id DESC LIMIT 1", repo, pr_number)
    return Request.of(row) if row else None


async def take_due(conn: asyncpg.Connection, limit: int, lease_s: float, owner: str) -> list[Request]:
    """Lease up to `limit` due requests to this worker (skipping ones another worker holds)."""
    rows = await conn.fetch(
        "UPDATE merge_requests SET lease_until = now() + make_interval(secs => $2), lease_owner = $4 WHERE id IN ("
        " SELECT id FROM merge_requests WHERE due_at <= now() AND state = ANY($3::text[])"
        " AND (lease_until IS NULL OR lease_until < now()) ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
        "RETURNING *", limit, lease_s, list(ACTIVE), owner)
    return [Request.of(row) for row in rows]


async def release_leases(conn: asyncpg.Connection, owner: str) -> int:
    """At start, take back the leases an earlier run of this process held (it crashed mid-evaluation)."""
    status: str = await conn.execute(
        "UPDATE merge_requests SET lease_until = NULL, lease_owner = NULL WHERE lease_owner = $1", owner)
    return int(status.rsplit(maxsplit=1)[-1])


async def next_due_in(conn: asyncpg.Connection) -> float | None:
    """Seconds until the next request is due (0 when one is due now), None when none is scheduled."""
    value = await conn.fetchval(
        "SELECT greatest(0, extract(epoch FROM min(greatest(due_at, coalesce(lease_until, due_at))) - now())) "
        "FROM merge_requests WHERE due_at IS NOT NULL AND state = ANY($1::text[])", list(ACTIVE))
    return None if value is None else float(value)


async def settle(conn: asyncpg.Connection, request_id: int, *, state: str, reason: str, detail: str,
                 due_in_s: float | None, unknown_tries: int = 0, error_tries: int = 0, blocks: int | None = None,
                 merge_sha: str | None = None) -> bool:
    """Write a request's evaluation and release its lease; `due_in_s` None: wait for an event about its PR.

    False when the request is no longer active (its PR merged or closed meanwhile): nothing is written then.
    """
    status: str = await conn.execute(
        "UPDATE merge_requests SET state = $2, reason = $3, detail = $4, "
        "due_at = CASE WHEN $5::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $5) END, "
        "unknown_tries = $6, error_tries = $7, blocks = coalesce($8, blocks), "
        "merge_sha = coalesce($9, merge_sha), lease_until = NULL, lease_owner = NULL, updated_at = now() "
        "WHERE id = $1 AND state = ANY($10::text[])",
        request_id, state, reason, detail, due_in_s, unknown_tries, error_tries, blocks, merge_sha, list(ACTIVE))
    return status != "UPDATE 0"


async def make_due(conn: asyncpg.Connection, repo: str, pr_number: int | None = None,
                   sha: str | None = None) -> int:
    """An event about a PR (or a commit) arrived: its active requests are due now; return how many."""
    status: str = await conn.execute(
        "UPDATE merge_requests SET due_at = now(), unknown_tries = 0, updated_at = now() "
        "WHERE repo_key = lower($1) AND state = ANY($4::text[]) AND (pr_number = $2 OR head_sha = $3)",
        repo, pr_number, sha, list(ACTIVE))
    return int(status.rsplit(maxsplit=1)[-1])


async def finish_pr(conn: asyncpg.Connection, repo: str, pr_number: int, state: str, merge_sha: str | None) -> None:
    """The PR merged (state done) or closed (state stopped): its unfinished requests end."""
    await conn.execute(
        "UPDATE merge_requests SET state = $3, reason = $4, merge_sha = coalesce($5, merge_sha), due_at = NULL, "
        "updated_at = now() WHERE repo_key = lower($1) AND pr_number = $2 AND state <> 'done' "
        "AND (state <> 'stopped' OR $3 = 'done')",
        repo, pr_number, state, "merged" if state == "done" else "closed", merge_sha)


async def note_pull(conn: asyncpg.Connection, repo: str, pr_number: int, subject: str, **changes: object) -> None:
    """Record what an event said about a PR (`head_sha`, `approved_sha`, `approved_review_id`, `labels`, …)."""
    columns = ["subject", *changes]
    values = [subject, *changes.values()]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    placeholders = ", ".join(f"${i + 3}" for i in range(len(columns)))
    await conn.execute(
        f"INSERT INTO pulls (repo_key, pr_number, {', '.join(columns)}) VALUES (lower($1), $2, {placeholders}) "
        f"ON CONFLICT (repo_key, pr_number) DO UPDATE SET {updates}, updated_at = now()",
        repo, pr_number, *values)


async def adopt_subject(conn: asyncpg.Connection, repo: str, pr_number: int, subject: str) -> None:
    """Requests of a PR take its work item as their subject (they had the PR itself when asked early)."""
    await conn.execute("UPDATE merge_requests SET subject = $3 WHERE repo_key = lower($1) AND pr_number = $2 "
                       "AND subject <> $3", repo, pr_number, subject)


async def approve(conn: asyncpg.Connection, repo: str, pr_number: int, subject: str, review_id: int,
                  sha: str) -> None:
    """Record an approval unless a later review (by id) was recorded already."""
    await conn.execute(
        "INSERT INTO pulls (repo_key, pr_number, subject, approved_sha, approved_review_id) "
        "VALUES (lower($1), $2, $3, $4, $5) ON CONFLICT (repo_key, pr_number) DO UPDATE SET "
        "subject = excluded.subject, approved_sha = excluded.approved_sha, "
        "approved_review_id = excluded.approved_review_id, updated_at = now() "
        "WHERE pulls.approved_review_id IS NULL OR pulls.approved_review_id < excluded.approved_review_id",
        repo, pr_number, subject, sha, review_id)


async def dispute(conn: asyncpg.Connection, repo: str, pr_number: int, subject: str, review_id: int) -> None:
    """A later review asked for changes: the recorded approval no longer stands."""
    await conn.execute(
        "INSERT INTO pulls (repo_key, pr_number, subject, approved_review_id) VALUES (lower($1), $2, $3, $4) "
        "ON CONFLICT (repo_key, pr_number) DO UPDATE SET approved_sha = NULL, "
        "approved_review_id = excluded.approved_review_id, updated_at = now() "
        "WHERE pulls.approved_review_id IS NULL OR pulls.approved_review_id < excluded.approved_review_id",
        repo, pr_number, subject, review_id)


async def pull(conn: asyncpg.Connection, repo: str, pr_number: int) -> Pull | None:
    """What the events said about a PR, if anything."""
    row = await conn.fetchrow("SELECT * FROM pulls WHERE repo_key = lower($1) AND pr_number = $2", repo, pr_number)
    if row is None:
        return None
    return Pull(row["subject"], row["head_sha"], row["approved_sha"], row["closed"], row["merge_sha"])


async def mark_done(conn: asyncpg.Connection, subject: str, pr_number: int, merge_sha: str) -> bool:
    """Record a work item as done; False when it was recorded before."""
    return await conn.fetchval(
        "INSERT INTO done_items (subject, pr_number, merge_sha) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING "
        "RETURNING true", subject, pr_number, merge_sha) is not None


async def reset(conn: asyncpg.Connection) -> None:
    """Empty what the events built, for a rebuild.

    Merge requests and finished items stay: they record our own decisions, and keeping `done_items` means a
    replayed MERGED does not write a second ISSUE_DONE.
    """
    await conn.execute("TRUNCATE pulls")
