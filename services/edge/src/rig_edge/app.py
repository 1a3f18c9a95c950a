"""The edge's wiring: settings, route table, upstream pool, its own health routes, and the proxy for the rest."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from rig_edge.profile import ProcessProfile, profile_router
from rig_edge.proxy import EdgeProxy, upstream_urls
from rig_edge.settings import EdgeSettings
from rig_service.bodies import BodyLimit
from rig_service.health import health_router
from rig_service.topology import SERVICE_PREFIX, default_path, load

log = logging.getLogger(__name__)

OWN_PREFIX = f"{SERVICE_PREFIX}edge"
"""Paths under this prefix are the edge's own (/healthz, /readyz, /metrics); every other path is forwarded."""


class Edge:
    """The ASGI app: the edge's own routes under /services/edge, everything else forwarded by `proxy`."""

    def __init__(self, own: ASGIApp, proxy: EdgeProxy) -> None:
        self.own = own
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI connection: lifespan and own paths here, HTTP forwarded, WebSockets refused."""
        if scope["type"] == "lifespan" or _is_own(scope["path"]):
            await self.own(scope, receive, send)
        elif scope["type"] == "http":
            await self.proxy(scope, receive, send)
        else:
            log.warning("refused a %s connection to %s: the edge forwards HTTP only", scope["type"], scope["path"])
            await send({"type": "websocket.close", "code": 1003, "reason": "the edge forwards HTTP only"})


def _is_own(path: str) -> bool:
    return path == OWN_PREFIX or path.startswith(OWN_PREFIX + "/")


def create_app() -> ASGIApp:
    """Build the edge from `EdgeSettings` (environment) and the topology file."""
    settings = EdgeSettings()
    # httpx logs every request at INFO: at the edge's rate that is noise, and it costs time on the hot path.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    source = settings.topology or default_path()
    topology = load(source)
    upstreams = upstream_urls(topology, settings)
    proxy = EdgeProxy(topology, upstreams, settings, source=source.name)
    profile = ProcessProfile() if settings.edge_profile else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await proxy.start()
        if profile is not None:
            profile.start()
        log.info("edge forwarding to %s", ", ".join(f"{name}={url}" for name, url in upstreams.items()))
        try:
            yield
        finally:
            if profile is not None:
                profile.stop()
            await proxy.stop()

    own = FastAPI(title="rig edge", summary="The edge's own routes; every other path goes to its owner.",
                  lifespan=lifespan, openapi_url=f"{OWN_PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    own.include_router(health_router({"upstream_pool": proxy.ready}), prefix=OWN_PREFIX)
    if profile is not None:
        own.include_router(profile_router(profile), prefix=OWN_PREFIX)
    # The services' own limit, applied in front of them too: an oversized body never crosses the edge.
    return BodyLimit(Edge(own, proxy), settings.max_body_bytes, settings.body_limits)
