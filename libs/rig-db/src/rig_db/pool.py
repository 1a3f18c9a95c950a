"""An asyncpg pool whose connections work inside one service's schema."""

from __future__ import annotations

import re

import asyncpg

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def schema_name(service: str, suffix: str = "") -> str:
    """The schema a service owns: its name (dashes as underscores) plus an optional suffix for test runs."""
    name = f"{service.replace('-', '_')}{suffix}".lower()
    if not _SCHEMA_NAME.match(name):
        raise ValueError(f"{name!r} is not a usable schema name: use letters, digits and underscores")
    return name


async def create_pool(url: str, schema: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool whose `search_path` is `schema`, so the service's SQL names its own tables plainly."""
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"{schema!r} is not a usable schema name")
    pool: asyncpg.Pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, server_settings={"search_path": schema}
    )
    return pool
