"""Numbered plain-SQL migrations, applied at start-up inside the service's schema, once each."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

_LIBRARY = "rig_db"


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file: `origin` (the library or the service) and its numbered file name."""

    origin: str
    name: str
    sql: str

    @property
    def version(self) -> str:
        """The key recorded once the migration is applied."""
        return f"{self.origin}/{self.name}"


def library_migrations() -> list[Migration]:
    """The tables every service has: outbox and inbox."""
    folder = resources.files(_LIBRARY) / "sql"
    return sorted((Migration(_LIBRARY, f.name, f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql")),
                  key=lambda m: m.name)


def folder_migrations(origin: str, folder: Path) -> list[Migration]:
    """A service's own migrations: `NNNN_name.sql` files, applied in number order."""
    files = sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [Migration(origin, f.name, f.read_text()) for f in files]


async def migrate(pool: asyncpg.Pool, schema: str, migrations: list[Migration]) -> list[str]:
    """Create `schema` if needed and apply the migrations not yet applied; return the versions applied now.

    An advisory lock per schema lets several replicas start at once without racing.
    """
    lock = int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True)
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", lock)
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations '
                "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch(f'SELECT version FROM "{schema}".schema_migrations')}
            for migration in migrations:
                if migration.version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}"')
                    await conn.execute(migration.sql)
                    await conn.execute(f'INSERT INTO "{schema}".schema_migrations (version) VALUES ($1)',
                                       migration.version)
                log.info("applied migration %s to schema %s", migration.version, schema)
                applied_now.append(migration.version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", lock)
    return applied_now
