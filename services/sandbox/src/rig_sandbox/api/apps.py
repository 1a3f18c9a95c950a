"""GitHub App routes.

The App itself, its installation, installation tokens, the repository's installation, and the rate limit.
"""

# No `from __future__ import annotations`: FastAPI must see the route signatures' local Annotated aliases.

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict

from rig_sandbox.auth import Auth, Identity
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, not_found
from rig_sandbox.identities import INSTALLATION_OWNER, mint_installation_token
from rig_sandbox.records import AppRecord
from rig_sandbox.shapes.accounts import APP_PERMISSIONS, installation_json

RATE_LIMIT = 5000


class TokenRequest(BaseModel):
    """Body of `POST /app/installations/{id}/access_tokens` (everything optional)."""

    model_config = ConfigDict(extra="ignore")
    repositories: list[str] | None = None
    repository_ids: list[int] | None = None
    permissions: dict[str, str] | None = None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def apps_router(sandbox: Sandbox, auth: Auth) -> APIRouter:
    """Routes of `/app…`, `GET /repos/{owner}/{repo}/installation` and `GET /rate_limit`."""
    router = APIRouter(tags=["apps"])
    TheApp = Annotated[AppRecord, Depends(auth.app)]  # noqa: N806 - a type alias
    Caller = Annotated[Identity | AppRecord | None, Depends(auth.optional)]  # noqa: N806 - a type alias

    def installation_of(app: AppRecord) -> dict[str, Any]:
        return installation_json(sandbox.urls, app, sandbox.store.account(INSTALLATION_OWNER, "Organization"))

    @router.get("/app")
    async def get_app(app: TheApp) -> dict[str, Any]:
        return sandbox.app_json(app)

    @router.get("/app/installations")
    async def list_installations(app: TheApp) -> list[dict[str, Any]]:
        return [installation_of(app)]

    @router.post("/app/installations/{installation_id}/access_tokens", status_code=201)
    async def create_token(installation_id: int, app: TheApp,
                           body: Annotated[TokenRequest | None, Body()] = None) -> dict[str, Any]:
        if installation_id != app.installation_id:
            raise not_found("https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app")
        wanted = body or TokenRequest()
        limited = _repositories(sandbox, wanted)
        record = mint_installation_token(sandbox.store, app, sandbox.settings.sandbox_token_ttl_s, limited)
        await sandbox.store.save()
        permissions = {k: v for k, v in (wanted.permissions or APP_PERMISSIONS).items() if k in APP_PERMISSIONS}
        answer: dict[str, Any] = {"token": record.token, "expires_at": _iso(record.expires_at or 0),
                                  "permissions": permissions,
                                  "repository_selection": "selected" if limited is not None else "all"}
        if limited is not None:
            answer["repositories"] = [sandbox.repo_json(repo) for key, repo in sandbox.store.state.repos.items()
                                      if key in limited]
        return answer

    @router.get("/repos/{owner}/{repo}/installation")
    async def repo_installation(owner: str, repo: str, app: TheApp) -> dict[str, Any]:
        sandbox.repo_or_404(owner, repo)
        return installation_of(app)

    @router.get("/rate_limit")
    async def rate_limit(_caller: Caller) -> dict[str, Any]:
        reset = int(time.time()) + 3600
        window = {"limit": RATE_LIMIT, "used": 0, "remaining": RATE_LIMIT, "reset": reset}
        return {"resources": {"core": window, "search": {**window, "limit": 30, "remaining": 30},
                              "graphql": window},
                "rate": window}

    return router


def _repositories(sandbox: Sandbox, wanted: TokenRequest) -> list[str] | None:
    """The full names a token is limited to (None: all), 422 when one is not in the installation."""
    if wanted.repositories is None and wanted.repository_ids is None:
        return None
    by_name = {repo.name.lower(): key for key, repo in sandbox.store.state.repos.items()}
    by_id = {repo.id: key for key, repo in sandbox.store.state.repos.items()}
    chosen = []
    for name in wanted.repositories or []:
        key = name.lower() if "/" in name else by_name.get(name.lower())
        if key is None or key not in sandbox.store.state.repos:
            raise _not_accessible()
        chosen.append(key)
    for repo_id in wanted.repository_ids or []:
        if repo_id not in by_id:
            raise _not_accessible()
        chosen.append(by_id[repo_id])
    return chosen


def _not_accessible() -> GitHubError:
    return GitHubError(422, "There is at least one repository that does not exist or is not accessible to the "
                            "parent installation.")
