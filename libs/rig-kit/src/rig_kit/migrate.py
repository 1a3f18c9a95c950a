"""`python -m rig_kit.migrate [NAME …]`: apply the services' database migrations, then exit.

The Helm chart runs it as a pre-install/pre-upgrade Job, so a rolling upgrade migrates once, before any new pod
starts. Services still migrate when they start (`ServiceKit.start`): under the same per-schema advisory lock, they
find nothing left to do. Without names it migrates every service of the topology that is installed and has SQL
migrations. It needs RIG_DATABASE_URL (never an embedded server: a Job's disk is gone when it ends).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from pathlib import Path

from rig_db.migrations import migrate
from rig_db.pool import create_pool, schema_name
from rig_kit.kit import migration_plan
from rig_service.settings import CommonSettings
from rig_service.topology import load


def migrations_folder(app: str) -> Path | None:
    """The SQL folder a service's app module declares (`MIGRATIONS`), or None for one without a database."""
    module = importlib.import_module(app.split(":", maxsplit=1)[0])
    folder = getattr(module, "MIGRATIONS", None)
    return folder if isinstance(folder, Path) else None


def services_with_migrations(names: list[str]) -> dict[str, Path]:
    """The named services (default: every installed one) and their migration folders."""
    topology = load()
    specs = [topology.spec(name) for name in names] if names else topology.present()
    found: dict[str, Path] = {}
    for spec in specs:
        folder = migrations_folder(spec.app) if spec.present() else None
        if folder is not None:
            found[spec.name] = folder
        elif names:
            raise SystemExit(f"{spec.name} has no database migrations (its app module declares no MIGRATIONS)")
    return found


async def run(names: list[str], settings: CommonSettings) -> dict[str, list[str]]:
    """Migrate each service's schema; the versions applied now, per service."""
    if not settings.database_url:
        raise SystemExit("set RIG_DATABASE_URL: migrations run against the real database, never an embedded one")
    applied: dict[str, list[str]] = {}
    for name, folder in services_with_migrations(names).items():
        schema = schema_name(name, settings.schema_suffix)
        pool = await create_pool(settings.database_url, schema, max_size=1)
        try:
            applied[name] = await migrate(pool, schema, migration_plan(name, schema, folder))
        finally:
            await pool.close()
    return applied


def main(argv: list[str] | None = None) -> None:
    """Parse the names, migrate, print one line per service."""
    parser = argparse.ArgumentParser(prog="python -m rig_kit.migrate", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="services to migrate (default: every installed one)")
    args = parser.parse_args(argv)
    for name, versions in asyncio.run(run(args.names, CommonSettings())).items():
        print(f"{name}: " + (f"applied {', '.join(versions)}" if versions else "up to date"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
