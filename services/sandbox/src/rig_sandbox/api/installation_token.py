"""`DELETE /installation/token`: revoke the installation token the request is authenticated with.

As on GitHub (https://docs.github.com/rest/apps/installations#revoke-an-installation-access-token): 204, and
from then on the token gets 401 `Bad credentials`, so a client must mint a new one. A personal access token
cannot use this endpoint (403).
"""

# No `from __future__ import annotations`: FastAPI must see the route signatures' local Annotated aliases.

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from rig_sandbox.auth import Auth, Identity
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError

DOCS = "https://docs.github.com/rest/apps/installations#revoke-an-installation-access-token"


def installation_token_router(sandbox: Sandbox, auth: Auth) -> APIRouter:
    """The route that revokes the caller's installation token."""
    router = APIRouter(tags=["apps"])
    Actor = Annotated[Identity, Depends(auth.actor)]  # noqa: N806 - a type alias

    @router.delete("/installation/token", status_code=204)
    async def revoke(actor: Actor) -> Response:
        if actor.token.kind != "installation":
            raise GitHubError(403, "Resource not accessible by personal access token", documentation_url=DOCS)
        sandbox.store.state.tokens.pop(actor.token.token, None)
        await sandbox.store.save()
        return Response(status_code=204)

    return router
