"""`python -m rig_kit.migrate`, the Helm chart's pre-upgrade Job: migrates every service once, then finds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[3]


def migrate(database_url: str, schema_suffix: str, *names: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")} | {
        "RIG_DATABASE_URL": database_url, "RIG_SCHEMA_SUFFIX": schema_suffix,
        "RIG_TOPOLOGY": str(ROOT / "topology.toml")}
    return subprocess.run([sys.executable, "-m", "rig_kit.migrate", *names], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


async def test_the_job_migrates_every_service_once(database_url, schema_suffix):
    first = migrate(database_url, schema_suffix)
    assert first.returncode == 0, first.stderr
    lines = dict(line.split(": ", 1) for line in first.stdout.splitlines())
    # Every service of the repository that has a database of its own, the ones added later included.
    assert set(lines) == {folder.parent.name for folder in (ROOT / "services").glob("*/migrations")}
    assert all(what.startswith("applied ") for what in lines.values())
    assert "router/0001_router.sql" in lines["router"]

    again = migrate(database_url, schema_suffix)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"{name}: up to date" for name in lines]

    conn = await asyncpg.connect(database_url)
    try:
        count = await conn.fetchval(f'SELECT count(*) FROM "router{schema_suffix}".schema_migrations')
    finally:
        await conn.close()
    assert count == len(lines["router"].removeprefix("applied ").split(", "))


def test_it_refuses_without_a_database_url_and_names_what_to_set(schema_suffix):
    result = migrate("", schema_suffix, "router")
    assert result.returncode != 0
    assert "RIG_DATABASE_URL" in result.stderr


def test_a_service_without_migrations_is_refused_by_name(database_url, schema_suffix):
    result = migrate(database_url, schema_suffix, "edge")
    assert result.returncode != 0
    assert "edge has no database migrations" in result.stderr
