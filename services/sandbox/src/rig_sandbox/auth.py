"""Who is calling: an App (by its JWT), an installation (by its token), or a user (by a personal access token).

As on GitHub: `/app…` routes take `Authorization: Bearer <App JWT>` (RS256, `iss` = the App's id, at most ten
minutes to live); repository routes take an installation token or a PAT as `token X` or `Bearer X`; git over
HTTP takes HTTP Basic with the token as password (user `x-access-token` or any). Wrong or expired → 401.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

import jwt
from fastapi import Request

from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, bad_credentials, not_found
from rig_sandbox.records import Account, AppRecord, Repo, TokenRecord

JWT_MAX_LIFETIME_S = 600
_LEEWAY_S = 60


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller of a repository route: the account it acts as, and the App when it is an installation."""

    account: Account
    app: AppRecord | None
    token: TokenRecord

    def check_repo(self, repo: Repo) -> None:
        """404 when the token is limited to other repositories (GitHub hides what a token cannot see)."""
        allowed = self.token.repositories
        if allowed is not None and repo.full_name.lower() not in allowed:
            raise not_found()


def credential(request: Request) -> str | None:
    """The token or JWT in the Authorization header (`token X`, `Bearer X`, or Basic with X as password)."""
    header = request.headers.get("authorization", "").strip()
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in ("token", "bearer") and value:
        return value
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return password or user or None
    return None


class Auth:
    """FastAPI dependencies that identify callers of the sandbox's GitHub API."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    async def app(self, request: Request) -> AppRecord:
        """The App whose JWT signs this request, else 401."""
        value = credential(request)
        if value is None:
            raise GitHubError(401, "A JSON web token could not be decoded")
        return self.verify_jwt(value)

    async def actor(self, request: Request) -> Identity:
        """The installation or user this request acts as, else 401."""
        value = credential(request)
        if value is None:
            raise GitHubError(401, "Requires authentication")
        return self.identify(value)

    async def optional(self, request: Request) -> Identity | AppRecord | None:
        """The caller when credentials are given (a token, or an App JWT), None for anonymous calls; else 401."""
        value = credential(request)
        if value is None:
            return None
        return self.verify_jwt(value) if value.count(".") == 2 else self.identify(value)

    def identify(self, token: str) -> Identity:
        """The identity of an installation token or PAT; 401 when unknown or expired."""
        record = self._sandbox.store.state.tokens.get(token)
        if record is None or (record.expires_at is not None and record.expires_at <= time.time()):
            raise bad_credentials()
        app = self._sandbox.app(record.app_role) if record.app_role else None
        return Identity(account=self._sandbox.who(record.login), app=app, token=record)

    def verify_jwt(self, token: str) -> AppRecord:
        """The App a JWT is from, after checking its signature and times as GitHub does; else 401."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            app = self._sandbox.app_by_id(int(claims["iss"]))
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as error:
            raise GitHubError(401, "A JSON web token could not be decoded") from error
        if app is None:
            raise GitHubError(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(token, app.public_pem, algorithms=["RS256"], leeway=_LEEWAY_S,
                                options={"require": ["exp", "iat", "iss"]})
        except jwt.ExpiredSignatureError as error:
            raise GitHubError(401, "'Expiration time' claim ('exp') must be a numeric value representing the "
                                   "future time at which the assertion expires") from error
        except jwt.ImmatureSignatureError as error:
            raise GitHubError(401, "'Issued at' claim ('iat') must be an Integer representing the time that "
                                   "the assertion was issued") from error
        except jwt.PyJWTError as error:
            raise GitHubError(401, "A JSON web token could not be decoded") from error
        if float(claims["exp"]) > time.time() + JWT_MAX_LIFETIME_S + _LEEWAY_S:
            raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")
        return app
