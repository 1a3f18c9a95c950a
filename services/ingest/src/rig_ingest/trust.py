"""Who is calling: a verified token, or (for the public agent runtime, which sends none) a trusted network.

Token-less calls are refused unless an operator names network ranges to trust (RIG_TRUSTED_NETWORKS, off
by default and logged as a warning at start-up). Behind the edge, the address checked is the one the edge signed
in X-Rig-Client (rig_service.forwarding), never a caller's X-Forwarded-For.
"""

from __future__ import annotations

import logging

from fastapi import HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from rig_identity import Authenticator, Principal

log = logging.getLogger(__name__)

class Gate:
    """Admits callers: by token (with a scope) everywhere, token-less from trusted networks on the runtime's calls."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator  # it holds the trusted networks, and warned about them at start-up

    async def principal(self, request: Request, scope: str) -> Principal | None:
        """The caller its bearer token proves, with `scope` (401/403 otherwise); None when it sent no token."""
        header = request.headers.get("authorization")
        if header is None:
            return None
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "the Authorization header must be `Bearer <token>`",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_request"'})
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip())
        return await self._authenticator.require(scope)(credentials)

    async def token_holder(self, request: Request, scope: str) -> Principal:
        """The caller, who must send a token granting `scope`."""
        principal = await self.principal(request, scope)
        if principal is None:
            raise HTTPException(401, "missing bearer token: send `Authorization: Bearer <token>` with a token from "
                                     "`rig tokens create`", headers={"WWW-Authenticate": "Bearer"})
        return principal

    async def speaker(self, request: Request, scope: str, agent: str) -> str:
        """The source a runtime call naming `agent` speaks as.

        With a token, its subject must be `agent:<agent>` or `human:<agent>` (a person's hook), or hold admin
        (then `agent:<agent>`); without one, only a trusted network may speak, as `agent:<agent>`.
        """
        principal = await self.principal(request, scope)
        if principal is None:
            self.screen(request)
            return f"agent:{agent}"
        if principal.subject in (f"agent:{agent}", f"human:{agent}"):
            return principal.subject  # a person's hook speaks the runtime's form too, as the person
        if principal.may_speak_as(f"agent:{agent}"):
            return f"agent:{agent}"
        raise HTTPException(403, f"token of {principal.subject} may not speak as agent:{agent}: a subject posts "
                                 "only as itself")

    async def admit(self, request: Request, scope: str) -> None:
        """Refuse (401/403) a caller with no valid credentials for `scope` before its body is read.

        A token, when sent, must be valid and grant `scope`; a call without one must come from a trusted network.
        """
        if await self.principal(request, scope) is None:
            self.screen(request)

    def screen(self, request: Request) -> None:
        """Refuse (401) a token-less call from outside the trusted networks before looking at its body."""
        if "authorization" in request.headers or self._authenticator.trusted_host(request) is not None:
            return
        host = self._authenticator.client_address(request) or "an unknown address"
        raise HTTPException(401, f"no bearer token, and {host} is not in a trusted network: send "
                                 "`Authorization: Bearer <token>` from `rig tokens create`, or have the operator "
                                 "trust the runtime's network in RIG_TRUSTED_NETWORKS",
                            headers={"WWW-Authenticate": "Bearer"})
