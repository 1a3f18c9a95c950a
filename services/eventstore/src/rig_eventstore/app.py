"""Wiring of the event store: its kit (its own consumer of `rig:events`), routes, and the trimming job."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from fastapi import FastAPI

from rig_bus.consumer import ConsumerOptions
from rig_eventstore.api import api_router
from rig_eventstore.handlers import appender
from rig_eventstore.settings import EventStoreSettings
from rig_kit import ServiceKit
from rig_kit.app import service_app

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
if not MIGRATIONS.is_dir():  # running from the source tree
    MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: EventStoreSettings | None = None) -> FastAPI:
    """The event store app."""
    settings = settings or EventStoreSettings()

    async def trim_events(kit: ServiceKit) -> None:
        await trim_forever(kit, settings.trim_every_s)

    kit = ServiceKit("eventstore", settings, migrations=MIGRATIONS, live_handler=appender,
                     options=ConsumerOptions(batch_size=1000), jobs=[trim_events])
    return service_app(kit, api_router(kit, settings), title="rig-conductor event store")


async def trim_forever(kit: ServiceKit, every_s: float) -> None:
    """Trim `rig:events` below the slowest group, which includes the store's own: it holds all that goes."""
    while True:
        await asyncio.sleep(every_s)
        try:
            removed = await kit.bus.trim(kit.names.events)
            if removed:
                log.info("trimmed %d entries of %s", removed, kit.names.events)
        except Exception:
            log.exception("trimming %s failed; next try in %.0fs", kit.names.events, every_s)
