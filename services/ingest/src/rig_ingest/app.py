"""Wiring of the ingest service: its kit (database, migrations, outbox relay) and its routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rig_github import GitHubSettings
from rig_ingest.api import webhook_router
from rig_ingest.events_api import reporting_routers
from rig_ingest.settings import IngestSettings
from rig_ingest.sweep import sweep_of
from rig_kit import ServiceKit
from rig_kit.app import service_app

MIGRATIONS = Path(__file__).parent / "migrations"
if not MIGRATIONS.is_dir():  # running from the source tree
    MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: IngestSettings | None = None, github: GitHubSettings | None = None) -> FastAPI:
    """The ingest app (`github`: where GitHub is and the conductor App the missed-delivery sweep acts as)."""
    settings = settings or IngestSettings()
    sweep = sweep_of(settings, github or GitHubSettings())
    kit = ServiceKit("ingest", settings, migrations=MIGRATIONS, jobs=[sweep.job] if sweep else [])
    return service_app(kit, webhook_router(kit, settings), *reporting_routers(kit, settings),
                       title="rig-conductor ingest")
