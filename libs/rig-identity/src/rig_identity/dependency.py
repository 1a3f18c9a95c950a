"""FastAPI dependencies that turn `Authorization: Bearer <token>` into a verified `Principal` with a scope.

Example, in a service's `api.py`::

    authenticator = Authenticator(settings.token_public_key, revocations)
    RunsWriter = Annotated[Principal, Depends(authenticator.require("runs:write"))]

    @router.post("/api/runs")
    async def start_run(principal: RunsWriter, body: RunStart) -> RunStarted:
        if not principal.may_speak_as(body.source):
            raise HTTPException(403, f"{principal.subject} may not speak as {body.source}")
        ...

Define such aliases at module level when the module uses `from __future__ import annotations`: FastAPI
resolves string annotations in the module's globals only.
"""

# No `from __future__ import annotations` here: FastAPI reads the dependency's annotations at runtime.

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rig_identity.revocation import RevocationSet
from rig_identity.tokens import SCOPES, InvalidToken, Principal, verify
from rig_service.forwarding import CLIENT_HEADER, attested_client

log = logging.getLogger(__name__)

_CREATE = "rig tokens create"

_BEARER = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description=f"An EdDSA token minted with `{_CREATE} --subject … --scope …`.",
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
"""The bearer credentials of a request, None when it sent none."""

ScopeDependency = Callable[[HTTPAuthorizationCredentials | None], Awaitable[Principal]]
"""What `Authenticator.require` returns: a dependency giving the verified caller."""

RuntimeDependency = Callable[[Request, HTTPAuthorizationCredentials | None], Awaitable[Principal]]
"""What `Authenticator.require_runtime` returns."""


class Authenticator:
    """Verifies bearer tokens with the installation's public key and refuses revoked ones.

    Build one per service in its wiring (`app.py`) and use `require(scope)` on each route; see the module
    docstring for the `Annotated` alias pattern.
    """

    def __init__(self, public_pem: str | bytes, revocations: RevocationSet,
                 trusted: Sequence[IPv4Network | IPv6Network] = (), edge_secret: str | None = None) -> None:
        self._public_pem = public_pem
        self._revocations = revocations
        self._edge_secret = edge_secret
        self.trusted = tuple(trusted)
        """Networks whose token-less calls the public agent runtime's routes accept (RIG_TRUSTED_NETWORKS)."""
        if self.trusted:
            log.warning("token-less calls from %s are trusted to speak as the agent they name (RIG_TRUSTED_NETWORKS); "
                        "any host there can act as any agent", ", ".join(str(n) for n in self.trusted))

    def authenticate(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        """Return the caller the credentials prove, or raise a 401 that says what to do."""
        if credentials is None:
            raise _unauthenticated(
                f"missing bearer token: send `Authorization: Bearer <token>` with a token from `{_CREATE}`",
                invalid=False,
            )
        try:
            principal = verify(self._public_pem, credentials.credentials)
        except InvalidToken as exc:
            raise _unauthenticated(exc.reason) from exc
        if self._revocations.is_revoked(principal.jti):
            raise _unauthenticated(f"token {principal.jti} was revoked: mint a new one with `{_CREATE}`")
        return principal

    def require(self, scope: str) -> ScopeDependency:
        """Return a dependency giving the caller when its token grants `scope` (`admin` grants all), else 401/403."""
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}: use one of {sorted(SCOPES)}")

        async def principal_with_scope(credentials: Credentials) -> Principal:
            principal = self.authenticate(credentials)
            if not principal.has_scope(scope):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    detail=(f"token of {principal.subject} lacks scope `{scope}`: mint one with "
                            f"`{_CREATE} --subject {principal.subject} --scope {scope}`"),
                    headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
                )
            return principal

        principal_with_scope.__name__ = f"require_{scope.replace(':', '_')}"
        return principal_with_scope

    def require_runtime(self, scope: str) -> RuntimeDependency:
        """Like `require`, for the public agent runtime's routes (docs/design.md section 9).

        That runtime sends no token: a token-less call from a trusted network passes, as a caller that may name
        any agent. Everyone else needs a token as usual.
        """
        with_token = self.require(scope)

        async def runtime_caller(request: Request, credentials: Credentials) -> Principal:
            if credentials is None and (host := self.trusted_host(request)) is not None:
                return Principal(subject=f"network:{host}", scopes=frozenset({scope}), jti="",
                                 expires_at=datetime.max.replace(tzinfo=UTC), any_agent=True)
            return await with_token(credentials)

        runtime_caller.__name__ = f"require_runtime_{scope.replace(':', '_')}"
        return runtime_caller

    def trusted_host(self, request: Request) -> str | None:
        """The caller's address when it lies in a trusted network (RIG_TRUSTED_NETWORKS), else None."""
        if not self.trusted:
            return None
        host = self.client_address(request)
        try:
            address = ip_address(host or "")
        except ValueError:
            return None
        return host if any(address in network for network in self.trusted) else None

    def client_address(self, request: Request) -> str | None:
        """Who is calling: the address the edge signed (X-Rig-Client), else the TCP peer; None when unknown.

        X-Forwarded-For is never read (anyone can write it). A signed header that does not verify, or one this
        service cannot check (no RIG_EDGE_SECRET), gives no address rather than the peer's, because the peer of
        a forwarded call is the edge itself (rig_service.forwarding).
        """
        stated = request.headers.getlist(CLIENT_HEADER)
        if stated:
            if self._edge_secret is None or len(stated) != 1:
                return None
            return attested_client(self._edge_secret, stated[0])
        return request.client.host if request.client else None


def _unauthenticated(detail: str, *, invalid: bool = True) -> HTTPException:
    # RFC 6750: a request without credentials gets a bare challenge, a bad token an `invalid_token` error.
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge})
