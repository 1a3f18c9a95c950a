"""Revoked tokens: an in-memory set every service keeps from TOKEN_REVOKED events, and its copy in PostgreSQL.

Each service records the revocations it hears of in its own schema, so after a restart it drops revoked
tokens at once instead of waiting for the event stream to be replayed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Protocol

from rig_contracts.catalogue import TokenRevokedEvent
from rig_contracts.envelope import Envelope

REVOKED_TOKENS_SQL = """\
CREATE TABLE IF NOT EXISTS "{schema}".revoked_tokens (
    jti text PRIMARY KEY,
    expires_at timestamptz,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
"""
"""The table of revoked token ids; fill `{schema}` (the service's own schema) and apply it as a migration."""

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class SqlConnection(Protocol):
    """The part of an asyncpg connection (or pool) this module uses."""

    async def execute(self, query: str, *args: Any) -> str:
        """Run a statement."""

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        """Run a query and return its rows."""


class RevocationSet:
    """Ids (jti) of revoked tokens, each kept until the token would have expired anyway."""

    def __init__(self) -> None:
        # None as expiry: the revocation did not say when the token expires, so it is kept for good.
        self._revoked: dict[str, datetime | None] = {}

    def __len__(self) -> int:
        return len(self._revoked)

    def __contains__(self, jti: object) -> bool:
        return jti in self._revoked

    def revoke(self, jti: str, expires_at: datetime | None) -> None:
        """Refuse the token `jti` from now on; `expires_at` says when the entry may be forgotten."""
        if not jti:
            raise ValueError("a revocation needs the token id: pass the `jti` claim of the token to revoke")
        self._revoked[jti] = expires_at

    def is_revoked(self, jti: str) -> bool:
        """Whether the token `jti` was revoked."""
        return jti in self._revoked

    def apply(self, event: Envelope) -> bool:
        """Take in a TOKEN_REVOKED event and return True; return False for any other event, which it ignores."""
        if not isinstance(event, TokenRevokedEvent):
            return False
        self.revoke(event.data.jti, event.data.expires_at)
        return True

    def prune(self, now: datetime | None = None) -> int:
        """Forget revocations of tokens that have expired by `now` (they are refused anyway); return how many."""
        moment = now or datetime.now(UTC)
        expired = [jti for jti, expires in self._revoked.items() if expires is not None and expires <= moment]
        for jti in expired:
            del self._revoked[jti]
        return len(expired)


async def record(conn: SqlConnection, schema: str, jti: str, expires_at: datetime | None) -> None:
    """Store a revocation in `schema`.revoked_tokens; recording the same jti again changes nothing."""
    await conn.execute(
        f'INSERT INTO "{_checked(schema)}".revoked_tokens (jti, expires_at) VALUES ($1, $2) '
        "ON CONFLICT (jti) DO NOTHING",
        jti,
        expires_at,
    )


async def load(conn: SqlConnection, schema: str, into: RevocationSet | None = None) -> RevocationSet:
    """Read the revocations of tokens not yet expired from `schema` into `into` (a new set when None)."""
    revocations = RevocationSet() if into is None else into
    rows = await conn.fetch(
        f'SELECT jti, expires_at FROM "{_checked(schema)}".revoked_tokens '
        "WHERE expires_at IS NULL OR expires_at > now()"
    )
    for row in rows:
        revocations.revoke(row["jti"], row["expires_at"])
    return revocations


async def prune_recorded(conn: SqlConnection, schema: str) -> None:
    """Delete the stored revocations of tokens that have expired (they are refused anyway)."""
    await conn.execute(f'DELETE FROM "{_checked(schema)}".revoked_tokens WHERE expires_at <= now()')


def _checked(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"{schema!r} is not a usable schema name: use lower-case letters, digits and underscores")
    return schema
