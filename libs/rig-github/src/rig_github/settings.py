"""Settings of the GitHub client, from `RIG_GITHUB_…` environment variables (pydantic-settings).

One GitHub App per role (docs/design.md section 8): the conductor's, the dev agents' and review-e's. Each App is
given by its id, its installation id and its private key (PEM text, or a file holding it). review-e may use a
personal access token instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Role(StrEnum):
    """Who speaks to GitHub: each role has its own App, so GitHub sees three distinct actors."""

    CONDUCTOR = "conductor"
    DEV = "dev"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class AppCredentials:
    """What it takes to act as one App installation: ids and the App's private key (PEM)."""

    app_id: int
    installation_id: int
    private_key: SecretStr


class GitHubConfigError(ValueError):
    """The settings do not say how a role authenticates; the message names the variables to set."""


class GitHubSettings(BaseSettings):
    """Where GitHub is, how each role authenticates, and how hard the client tries."""

    model_config = SettingsConfigDict(env_prefix="RIG_", extra="ignore", frozen=True)

    github_api_url: str = Field(
        default="https://api.github.com",
        description="GitHub REST API base URL: https://api.github.com, a GitHub Enterprise URL such as "
        "https://ghe.example.com/api/v3, or the sandbox (http://127.0.0.1:8090).",
    )
    github_conductor_app_id: int | None = Field(default=None, description="App id of the conductor's GitHub App.")
    github_conductor_installation_id: int | None = Field(
        default=None, description="Installation id of the conductor's App on the organisation or account."
    )
    github_conductor_private_key: SecretStr | None = Field(
        default=None, description="PEM private key of the conductor's App (or set the _FILE variant)."
    )
    github_conductor_private_key_file: Path | None = Field(
        default=None, description="File holding the PEM private key of the conductor's App."
    )
    github_conductor_login: str | None = Field(
        default=None,
        description="Login of the conductor App's bot user (`<app-slug>[bot]`): only its comments' hidden markers "
                    "count as comments already posted. Unset: read once from GitHub (`GET /app`).")
    github_dev_app_id: int | None = Field(default=None, description="App id of the dev agents' GitHub App.")
    github_dev_installation_id: int | None = Field(default=None, description="Installation id of the dev agents' App.")
    github_dev_private_key: SecretStr | None = Field(
        default=None, description="PEM private key of the dev agents' App (or set the _FILE variant)."
    )
    github_dev_private_key_file: Path | None = Field(
        default=None, description="File holding the PEM private key of the dev agents' App."
    )
    github_review_app_id: int | None = Field(default=None, description="App id of review-e's GitHub App.")
    github_review_installation_id: int | None = Field(default=None, description="Installation id of review-e's App.")
    github_review_private_key: SecretStr | None = Field(
        default=None, description="PEM private key of review-e's App (or set the _FILE variant)."
    )
    github_review_private_key_file: Path | None = Field(
        default=None, description="File holding the PEM private key of review-e's App."
    )
    github_review_token: SecretStr | None = Field(
        default=None, description="Personal access token for review-e, used when its App is not configured."
    )
    github_threads: int = Field(default=8, ge=1, description="Threads per role that run the blocking GitHub calls.")
    github_timeout: int = Field(default=15, ge=1, description="Seconds to wait for one HTTP response from GitHub.")
    github_retry_total: int = Field(
        default=5, ge=0, description="Retries of one request after a 5xx, a rate limit or a connection error."
    )
    github_retry_backoff_factor: float = Field(
        default=0.5, ge=0,
        description="Exponential backoff: no wait before retry 1, then factor * 2^(n-1) seconds before retry n.",
    )
    github_retry_max_wait: float = Field(
        default=120.0,
        gt=0,
        description="Longest single wait before a retry (backoff, Retry-After or rate-limit reset); a rate limit "
        "that needs longer fails at once with RateLimitedError.",
    )
    github_secondary_rate_wait: float = Field(
        default=60.0, ge=0, description="Seconds to wait after a secondary rate limit that gives no Retry-After."
    )
    github_seconds_between_requests: float = Field(
        default=0.25, ge=0,
        description="Least gap between two requests of one pool thread (PyGithub's throttle); 0: none.",
    )
    github_seconds_between_writes: float = Field(
        default=1.0, ge=0,
        description="Least gap between two writes of one pool thread, as GitHub asks of clients; 0: none.",
    )
    github_token_refresh_margin: float = Field(
        default=300.0,
        ge=0,
        description="An installation token is replaced this many seconds before it expires (at most half its life).",
    )
    github_user_agent: str = Field(default="rig-conductor", description="User-Agent sent to GitHub.")
    github_dev_login: str = Field(
        default="", description="The dev agents' GitHub login (their App's bot, e.g. `rig-dev[bot]`): the PRs it "
        "opens from the base repository are the ones the router adopts, reviews and merges. Unset: only "
        "RIG_ROUTER_PR_AUTHORS' PRs are adopted.")
    github_review_login: str = Field(
        default="", description="review-e's GitHub login (its App's bot, e.g. `rig-review[bot]`, or the PAT's user): "
        "the only bot whose approval or requested changes count, in the router and the merger. Unset: none does.")
    github_maintainer_reviews: bool = Field(
        default=False, description="Whether reviews by people whose author_association is OWNER, MEMBER or "
        "COLLABORATOR count as approvals and disputes too (besides review-e's).")

    @model_validator(mode="after")
    def check_roles(self) -> Self:
        """Fail at start-up when a role is half configured (an App id without a key, a key twice …)."""
        for role in Role:
            if any(value is not None for value in self._app_fields(role)):
                self.app(role)
        return self

    def _app_fields(self, role: Role) -> tuple[object, ...]:
        return tuple(getattr(self, f"github_{role}_{name}") for name in
                     ("app_id", "installation_id", "private_key", "private_key_file"))

    def _review_pat_only(self) -> bool:
        return self.github_review_token is not None and all(v is None for v in self._app_fields(Role.REVIEW))

    def configured_roles(self) -> list[Role]:
        """The roles that have credentials (an App, or for review a personal access token)."""
        return [role for role in Role if self.app(role) is not None or self.token(role) is not None]

    def bot_login(self, role: Role) -> str | None:
        """The configured login a role acts as on GitHub (`RIG_GITHUB_{ROLE}_LOGIN`), None when unset."""
        return getattr(self, f"github_{role}_login") or None

    def token(self, role: Role) -> SecretStr | None:
        """The personal access token of a role (only review-e may have one), when its App is not configured."""
        return self.github_review_token if role is Role.REVIEW and self._review_pat_only() else None

    def app(self, role: Role) -> AppCredentials | None:
        """The App credentials of a role, the key read from its file if given; None when the role has no App."""
        app_id, installation_id, key, key_file = self._app_fields(role)
        if all(value is None for value in (app_id, installation_id, key, key_file)):
            return None
        names = f"RIG_GITHUB_{role.upper()}_"
        if key is not None and key_file is not None:
            raise GitHubConfigError(f"set only one of {names}PRIVATE_KEY and {names}PRIVATE_KEY_FILE")
        if not isinstance(app_id, int) or not isinstance(installation_id, int) or (key is None and key_file is None):
            raise GitHubConfigError(
                f"the {role} App needs {names}APP_ID, {names}INSTALLATION_ID and {names}PRIVATE_KEY(_FILE)")
        if isinstance(key_file, Path):
            try:
                key = SecretStr(key_file.read_text())
            except OSError as error:
                raise GitHubConfigError(f"{names}PRIVATE_KEY_FILE: cannot read {key_file}: {error}") from error
        assert isinstance(key, SecretStr)
        if "PRIVATE KEY" not in key.get_secret_value():
            raise GitHubConfigError(f"{names}PRIVATE_KEY(_FILE) does not hold a PEM private key")
        return AppCredentials(app_id=app_id, installation_id=installation_id, private_key=key)
