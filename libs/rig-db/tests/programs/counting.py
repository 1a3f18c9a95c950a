"""A small projection for tests: counts the events per subject, through the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import asyncpg

from rig_contracts import Event
from rig_db.migrations import Migration, library_migrations, migrate

COUNTERS_SQL = """
CREATE TABLE counters (subject text PRIMARY KEY, count integer NOT NULL);
CREATE TABLE applied (event_id uuid NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
"""


def migrations() -> list[Migration]:
    return [*library_migrations(), Migration("counting", "0001_counters.sql", COUNTERS_SQL)]


async def prepare(pool: asyncpg.Pool, schema: str) -> None:
    await migrate(pool, schema, migrations())


async def apply(conn: asyncpg.Connection, events: Sequence[Event]) -> None:
    """Count each event once per subject, and log every application (to see doubles)."""
    await conn.executemany(
        "INSERT INTO counters (subject, count) VALUES ($1, 1) "
        "ON CONFLICT (subject) DO UPDATE SET count = counters.count + 1",
        [(e.subject,) for e in events])
    await conn.executemany("INSERT INTO applied (event_id) VALUES ($1)", [(e.id,) for e in events])


async def counts(pool: asyncpg.Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {r["subject"]: r["count"] for r in await conn.fetch("SELECT subject, count FROM counters")}


async def applications(pool: asyncpg.Pool) -> list[str]:
    async with pool.acquire() as conn:
        return [str(r["event_id"]) for r in await conn.fetch("SELECT event_id FROM applied")]


__all__ = ["Path", "applications", "apply", "counts", "migrations", "prepare"]
