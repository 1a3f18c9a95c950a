"""GitHub App authentication: the App's JWT and its installation tokens, cached and refreshed before they expire.

The JWT is PyGithub's `Auth.AppAuth` (RS256 through PyJWT; `iat` 60 s in the past, `exp` 9 min ahead, so the
token lives 10 minutes, GitHub's maximum; `iss` the App id). Tokens are fetched with PyGithub's
`GithubIntegration.get_access_token` (`POST /app/installations/{id}/access_tokens`) at any base URL.

PyGithub's own `Auth.AppInstallationAuth` is not used: it refreshes only 20 s before expiry (a module constant),
does so without a lock (every pool thread would fetch its own token at once), and belongs to one `Github`,
while the client keeps one `Github` per pool thread. `InstallationTokens` is shared by all of them instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from github import Auth, GithubIntegration

from rig_github.metrics import TOKENS
from rig_github.retry import TokenRetry, github_retry
from rig_github.settings import AppCredentials, GitHubSettings

JWT_ISSUED_AT = -60
"""Seconds added to now for `iat`: in the past, against clock drift, as GitHub advises."""

JWT_EXPIRY = 540
"""Seconds from now to `exp`: with `iat` a minute back the JWT spans 10 minutes, GitHub's maximum."""


def app_auth(credentials: AppCredentials) -> Auth.AppAuth:
    """PyGithub's App authentication (a fresh RS256 JWT on every request) for these credentials."""
    return Auth.AppAuth(
        credentials.app_id, credentials.private_key.get_secret_value(),
        jwt_expiry=JWT_EXPIRY, jwt_issued_at=JWT_ISSUED_AT,
    )


def app_jwt(credentials: AppCredentials) -> str:
    """A signed App JWT, valid now, for calls made as the App itself (`/app/…`)."""
    return app_auth(credentials).create_jwt()


@dataclass(frozen=True, slots=True)
class InstallationToken:
    """An installation access token and when GitHub says it expires."""

    token: str
    expires_at: datetime
    fetched_at: datetime

    def refresh_at(self, margin: float) -> float:
        """The Unix time from which this token is replaced: `margin` before expiry, at most half its life early."""
        life = (self.expires_at - self.fetched_at).total_seconds()
        return self.expires_at.timestamp() - min(margin, max(life, 0) / 2)


class InstallationTokens:
    """One App installation's access token, fetched when first needed and replaced before it expires.

    Thread-safe: the pool threads share one instance, and only one of them fetches at a time.
    """

    def __init__(self, integration: GithubIntegration, installation_id: int, *, margin: float, role: str = "-",
                 clock: Callable[[], float] = time.time) -> None:
        self._integration = integration
        self._installation_id = installation_id
        self._margin = margin
        self._role = role
        self._clock = clock
        self._lock = threading.Lock()
        self._current: InstallationToken | None = None

    @classmethod
    def for_app(cls, settings: GitHubSettings, credentials: AppCredentials, role: str = "-") -> InstallationTokens:
        """Tokens of an App's installation at the settings' GitHub, fetched with the client's retry policy."""
        integration = GithubIntegration(
            auth=app_auth(credentials), base_url=settings.github_api_url, timeout=settings.github_timeout,
            user_agent=settings.github_user_agent, retry=github_retry(settings, kind=TokenRetry),
            seconds_between_requests=None, seconds_between_writes=None,
        )
        return cls(integration, credentials.installation_id, margin=settings.github_token_refresh_margin, role=role)

    def current(self) -> InstallationToken:
        """The token to use now: the cached one, or a new one when the cached one is due for refresh."""
        with self._lock:
            token = self._current
            if token is None or self._clock() >= token.refresh_at(self._margin):
                token = self._current = self._fetch()
            return token

    def token(self) -> str:
        """The token text to use now (see `current`)."""
        return self.current().token

    def invalidate(self) -> None:
        """Forget the cached token (GitHub refused it), so the next call fetches a new one."""
        with self._lock:
            self._current = None

    def close(self) -> None:
        """Close the connections used to fetch tokens."""
        self._integration.close()

    def _fetch(self) -> InstallationToken:
        fetched_at = datetime.fromtimestamp(self._clock(), UTC)
        grant = self._integration.get_access_token(self._installation_id)
        TOKENS.labels(self._role).inc()
        expires_at = grant.expires_at if grant.expires_at.tzinfo else grant.expires_at.replace(tzinfo=UTC)
        return InstallationToken(token=grant.token, expires_at=expires_at, fetched_at=fetched_at)


class InstallationAuth(Auth.Auth):
    """PyGithub authentication with the current installation token, read again for every request.

    Because PyGithub asks for the token on each request, a long-lived client keeps working across expiry: the
    request after the refresh point carries the new token.
    """

    def __init__(self, tokens: InstallationTokens) -> None:
        self._tokens = tokens

    @property
    def token_type(self) -> str:
        """The Authorization scheme GitHub expects for installation tokens."""
        return "token"

    @property
    def token(self) -> str:
        """The current installation token (fetched or refreshed when due)."""
        return self._tokens.token()

    @property
    def _masked_token(self) -> str:
        return "token (installation token removed)"
