"""Wiring of the cost tracker: its kit (projection of `rig:events` through the inbox, `runlogs` stored), routes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI

from rig_contracts import Names
from rig_costs.api import api_router
from rig_costs.budget_api import budget_router, caps_of
from rig_costs.budgets import Budgets
from rig_costs.domain import Pricing
from rig_costs.handlers import costs_projection
from rig_costs.lines import runlogs_reader
from rig_costs.retention import retention_job
from rig_costs.settings import CostsSettings
from rig_kit import ServiceKit
from rig_kit.app import service_app

MIGRATIONS = Path(__file__).parent / "migrations"
if not MIGRATIONS.is_dir():  # running from the source tree
    MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: CostsSettings | None = None) -> FastAPI:
    """The cost tracker app."""
    settings = settings or CostsSettings()
    caps = caps_of(settings)
    budgets = Budgets(caps.issue_usd, caps.repo_day_usd, Decimal(str(settings.costs_warn_fraction)))
    projection = costs_projection(Names(settings.key_prefix), Pricing(), budgets)
    kit = ServiceKit("costs", settings, migrations=MIGRATIONS, projection=projection,
                     readers=[runlogs_reader], jobs=[retention_job(settings)])
    return service_app(kit, api_router(kit, settings), budget_router(kit, settings), title="rig-conductor costs")
