"""Build a service's FastAPI app around its kit: lifespan, body limits, health, metrics, admin routes, its routes."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from rig_kit.admin import admin_router
from rig_kit.kit import ServiceKit
from rig_service.bodies import BodyLimit
from rig_service.health import health_router, postgres_check


def service_app(kit: ServiceKit, *routers: APIRouter, title: str | None = None) -> FastAPI:
    """The app for `kit`'s service with `routers` mounted."""
    app = FastAPI(title=title or f"rig-conductor {kit.name}", lifespan=kit.lifespan)

    async def database() -> None:
        await postgres_check(kit.pool)()

    async def valkey() -> None:
        await kit.bus.ping()

    # Every route of every service has the same body limit (RIG_MAX_BODY_BYTES, RIG_BODY_LIMITS), checked before
    # routing, authentication or parsing; the edge applies the same settings in front.
    app.add_middleware(BodyLimit, max_body_bytes=kit.settings.max_body_bytes, routes=kit.settings.body_limits)
    app.include_router(health_router({"postgres": database, "valkey": valkey}))
    app.include_router(admin_router(kit))
    for router in routers:
        app.include_router(router)
    return app
