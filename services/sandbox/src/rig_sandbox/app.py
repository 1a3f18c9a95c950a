"""Wiring of the sandbox: settings, records, Apps, git, the webhook dispatcher, and the routes.

`python -m rig_service.serve sandbox` serves `create_app()`. Everything lives under `{RIG_DATA_DIR}/sandbox/`:
`state.json` (records), `git/{owner}/{repo}.git` (bare repositories), `apps/{role}.pem` (App keys) and the
webhook deliveries; a restart finds it all as it was.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

from rig_sandbox.api.apps import RATE_LIMIT, apps_router
from rig_sandbox.api.checks import checks_router
from rig_sandbox.api.control import ENDPOINTS as CONTROL_ENDPOINTS
from rig_sandbox.api.control import control_router
from rig_sandbox.api.faults import ENDPOINTS as FAULT_ENDPOINTS
from rig_sandbox.api.faults import faults_router
from rig_sandbox.api.git_http import git_http_router
from rig_sandbox.api.installation_token import installation_token_router
from rig_sandbox.api.issues import issues_router
from rig_sandbox.api.merges import merges_router
from rig_sandbox.api.pulls import pulls_router
from rig_sandbox.api.repos import repos_router
from rig_sandbox.auth import Auth
from rig_sandbox.ci import Ci
from rig_sandbox.context import WEBHOOK_ROLE, Sandbox
from rig_sandbox.demo import ensure_demo
from rig_sandbox.errors import install_handlers
from rig_sandbox.faults import Faults
from rig_sandbox.front_door import FrontDoor
from rig_sandbox.git.runner import GitRunner
from rig_sandbox.identities import ensure_apps
from rig_sandbox.journal import RequestJournal
from rig_sandbox.records import AppRecord
from rig_sandbox.settings import SandboxSettings
from rig_sandbox.sink import EventSink, FanOut
from rig_sandbox.store import Store
from rig_sandbox.urls import Urls
from rig_sandbox.webhooks.api import deliveries_router
from rig_sandbox.webhooks.dispatcher import Dispatcher
from rig_service.health import health_router

RECENT_EVENTS = 1000
"""How many emitted events `GET /_sandbox/events` keeps."""


class RecentEvents:
    """The latest emitted events (name, action, repository), for people looking at the sandbox."""

    def __init__(self, size: int = RECENT_EVENTS) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=size)

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Remember the event's name and what it is about."""
        self._events.append({"event": event, "action": payload.get("action"),
                             "repository": (payload.get("repository") or {}).get("full_name"),
                             "sender": (payload.get("sender") or {}).get("login"), "at": time.time()})

    def latest(self, limit: int) -> list[dict[str, Any]]:
        """The last `limit` events, oldest first."""
        return list(self._events)[-max(limit, 0):] if limit else []


def create_app(settings: SandboxSettings | None = None, *, observers: Sequence[EventSink] = ()) -> FastAPI:
    """The sandbox app; `observers` also receive every emitted webhook event (tests record them)."""
    settings = settings or SandboxSettings()
    root = Path(settings.data_dir) / "sandbox"
    root.mkdir(parents=True, exist_ok=True)
    store = Store(root)
    apps = ensure_apps(store, root / "apps")
    conductor = next(app for app in apps if app.role == WEBHOOK_ROLE)
    dispatcher = Dispatcher(settings, Path(settings.data_dir), app_id=conductor.id)
    recent = RecentEvents()
    sandbox = Sandbox(settings=settings, root=root, store=store, git=GitRunner(settings.sandbox_git_concurrency),
                      sink=FanOut([dispatcher, recent, *observers]), urls=Urls.of(settings.sandbox_public_url))
    auth = Auth(sandbox)
    ci = Ci(sandbox)
    sandbox.pull_hooks.append(ci.on_pull)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await store.save()
        await dispatcher.start()
        try:
            if settings.sandbox_demo:
                await ensure_demo(sandbox)
            ci.resume()
            yield
        finally:
            await ci.stop()  # before the dispatcher: nothing left running, no event after it stopped
            await dispatcher.stop()

    app = FastAPI(title="rig-conductor sandbox (GitHub stand-in)", lifespan=lifespan,
                  openapi_url="/_sandbox/openapi.json", docs_url="/_sandbox/docs", redoc_url=None)
    install_handlers(app)
    faults, journal = Faults(), RequestJournal()
    CONTROL_ENDPOINTS.update(FAULT_ENDPOINTS)  # `GET /_sandbox` lists every control endpoint
    # Inside `_github_headers`, so fault answers carry GitHub's usual headers too.
    app.add_middleware(FrontDoor, sandbox=sandbox, faults=faults, journal=journal)
    app.middleware("http")(_github_headers)
    app.include_router(health_router({"state": _state_check(root), "git": _git_check}))
    github = [make(sandbox, auth) for make in (apps_router, repos_router, issues_router, pulls_router,
                                               merges_router, checks_router, installation_token_router)]

    def owns_webhook(app: AppRecord) -> bool:
        # On GitHub an App sees only its own webhook's deliveries; only the conductor's App has one here.
        return app.id == conductor.id

    for router in (*github, deliveries_router(dispatcher, auth.app, owns_webhook),
                   control_router(sandbox, recent.latest, lambda: _deliveries(dispatcher)),
                   faults_router(faults, journal),
                   git_http_router(sandbox, auth)):
        app.include_router(router)
    app.state.sandbox = sandbox
    app.state.dispatcher = dispatcher
    app.state.ci = ci
    return app


async def _github_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Headers GitHub puts on every API answer (clients read the rate limit ones)."""
    response = await call_next(request)
    response.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
    response.headers.setdefault("X-GitHub-Request-Id", uuid.uuid4().hex[:20].upper())
    response.headers.setdefault("X-RateLimit-Limit", str(RATE_LIMIT))
    response.headers.setdefault("X-RateLimit-Remaining", str(RATE_LIMIT - 1))
    response.headers.setdefault("X-RateLimit-Reset", str(int(time.time()) + 3600))
    response.headers.setdefault("X-RateLimit-Used", "1")
    response.headers.setdefault("X-RateLimit-Resource", "core")
    return response


def _state_check(root: Path) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        if not (root / "state.json").is_file():
            raise FileNotFoundError(f"{root / 'state.json'} is missing")

    return check


async def _git_check() -> None:
    process = await asyncio.create_subprocess_exec("git", "--version", stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.DEVNULL)
    if await process.wait() != 0:
        raise RuntimeError("git does not run")


def _deliveries(dispatcher: Dispatcher) -> list[dict[str, Any]]:
    return [{"id": row.id, "guid": row.guid, "event": row.event, "action": row.action, "status": row.status,
             "status_code": row.status_code, "delivered_at": row.delivered_at, "redelivery": row.redelivery,
             "repository_id": row.repository_id} for row in dispatcher.deliveries(limit=100)]
