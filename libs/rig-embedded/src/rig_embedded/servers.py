"""Resolve the database and Valkey URLs: the ones given, else embedded servers under the data folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rig_embedded.postgres import start_postgres
from rig_embedded.redis import start_redis


@dataclass(frozen=True)
class ServerUrls:
    """Where PostgreSQL and Valkey are, and which of them this process started."""

    database_url: str
    redis_url: str
    embedded: tuple[str, ...]


def resolve(database_url: str | None, redis_url: str | None, data_dir: Path) -> ServerUrls:
    """Use the URLs given; start an embedded server for each one missing."""
    embedded: list[str] = []
    if not database_url:
        database_url = start_postgres(data_dir / "postgres")
        embedded.append("postgres")
    if not redis_url:
        redis_url = start_redis(data_dir / "redis")
        embedded.append("redis")
    return ServerUrls(database_url, redis_url, tuple(embedded))
