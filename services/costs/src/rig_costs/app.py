"""Wiring of the cost tracker: its kit (projection of `rig:events` through the inbox, `runlogs` stored), routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rig_costs.api import api_router
from rig_costs.domain import Pricing
from rig_costs.handlers import costs_projection
from rig_costs.lines import runlogs_reader
from rig_costs.settings import CostsSettings
from rig_kit import ServiceKit
from rig_kit.app import service_app

MIGRATIONS = Path(__file__).parent / "migrations"
if not MIGRATIONS.is_dir():  # running from the source tree
    MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: CostsSettings | None = None) -> FastAPI:
    """The cost tracker app."""
    settings = settings or CostsSettings()
    kit = ServiceKit("costs", settings, migrations=MIGRATIONS, projection=costs_projection(Pricing()),
                     readers=[runlogs_reader])
    return service_app(kit, api_router(kit, settings), title="rig-conductor costs")
