"""The front door of the sandbox's GitHub: journals each request and lets armed faults answer it.

An ASGI middleware in front of the routes (faults are described in `faults`, the journal in `journal`).

Control endpoints (`/_sandbox…`), health and metrics pass straight through: faults never hit them and the
journal does not list them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rig_sandbox.auth import credential
from rig_sandbox.context import Sandbox
from rig_sandbox.faults import Answer, Faults
from rig_sandbox.journal import RequestJournal, fingerprint

_OWN_PATHS = ("/_sandbox", "/healthz", "/readyz", "/metrics")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request says it is from, as faults match it and the journal shows it (credentials not checked)."""

    credential: str | None
    app: str | None = None
    login: str | None = None
    credential_sha256: str | None = None
    who: str = "installation"
    """How a rate limit message names the caller: `installation ID 7`, `user ID 9`, an IP address."""


class FrontDoor:
    """ASGI middleware: journal every GitHub request and answer it with an armed fault when one matches."""

    def __init__(self, app: ASGIApp, *, sandbox: Sandbox, faults: Faults, journal: RequestJournal) -> None:
        self._app = app
        self._sandbox = sandbox
        self._faults = faults
        self._journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_OWN_PATHS):
            await self._app(scope, receive, send)
            return
        method: str = scope["method"]
        caller = self.caller(Request(scope))
        entry = self._journal.open(at=time.time(), method=method, path=path,
                                   query=scope.get("query_string", b"").decode("latin-1"),
                                   credential=caller.credential, app=caller.app, login=caller.login,
                                   credential_sha256=caller.credential_sha256)
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            taken = self._faults.take(method, path, caller.app, who=caller.who, now=entry.at)
            if taken is None:
                await self._app(scope, receive, recording)
            else:
                entry.fault = taken[0].id
                await self._misbehave(taken[1], scope, receive, recording)
        finally:
            entry.status, entry.duration_s = status, round(time.perf_counter() - started, 6)

    async def _misbehave(self, answer: Answer, scope: Scope, receive: Receive, send: Send) -> None:
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
            await self._app(scope, receive, send)
            return
        if answer.after_handling:
            await self._app(scope, receive, _discard)
        else:
            await _drain(receive)  # read the body as GitHub would, so the connection stays usable
        await JSONResponse(answer.body, answer.status, headers=answer.headers)(scope, receive, send)

    def caller(self, request: Request) -> Caller:
        """Who `request` says it is from: an App (its JWT's issuer), an installation or user (a token), or nobody."""
        value = credential(request)
        if value is None:
            return Caller(None, who=request.client.host if request.client else "your IP")
        digest = fingerprint(value)
        if value.count(".") == 2:
            try:
                app_id = int(jwt.decode(value, options={"verify_signature": False})["iss"])
            except (jwt.PyJWTError, KeyError, TypeError, ValueError):
                return Caller("jwt", credential_sha256=digest)
            app = self._sandbox.app_by_id(app_id)
            return Caller("jwt", app.role if app else None, None, digest, f"app ID {app_id}")
        record = self._sandbox.store.state.tokens.get(value)
        if record is None:
            return Caller("unknown", credential_sha256=digest)
        if record.app_role is not None:
            app = self._sandbox.app(record.app_role)
            return Caller(record.kind, app.role, record.login, digest, f"installation ID {app.installation_id}")
        account = self._sandbox.store.find_account(record.login)
        return Caller(record.kind, None, record.login, digest, f"user ID {account.id if account else 0}")


async def _discard(_message: Message) -> None:
    """Where the real answer goes when a fault replaces it after the request was carried out."""


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
