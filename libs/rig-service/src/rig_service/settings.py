"""Settings every service shares, from `RIG_…` environment variables (pydantic-settings)."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from typing import Literal, Self

from pydantic import Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rig_service.trusted import check_trusted_networks

GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB; anything larger did not come from GitHub."""

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "changeme", "secret", "password", "dev", "development"})
"""Values refused for a secret outside development."""


class CommonSettings(BaseSettings):
    """Settings common to every service; a service subclasses it and adds its own."""

    model_config = SettingsConfigDict(env_prefix="RIG_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="Where this runs; outside development, placeholder secrets are refused and a service with no "
                    "database or Valkey URL refuses to start (it never starts embedded servers there)."
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: in development the embedded server under .rig/ is started and used; "
                    "elsewhere a service refuses to start.",
    )
    redis_url: str | None = Field(
        default=None, description="Valkey/Redis URL. Unset: in development the embedded Redis under .rig/ is started "
                                  "and used; elsewhere a service refuses to start."
    )
    key_prefix: str = Field(default="", description="Prefix for every Valkey key, so installations can share a server.")
    schema_suffix: str = Field(default="", description="Suffix of every service's schema name (tests set one per run).")
    data_dir: str = Field(default=".rig", description="Folder for embedded servers and local state.")
    fault_point: str | None = Field(
        default=None, description="Tests only: the process exits (status 137) when it reaches this named point."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0,
        description="Largest request body a route takes (413 above it, answered from Content-Length at once or as "
                    "soon as a streamed body passes it), at the edge and in every service.")
    body_limits: dict[str, int] = Field(
        default_factory=lambda: {"/webhooks/github": GITHUB_MAX_PAYLOAD_BYTES},
        description="Body limits per path prefix that differ from RIG_MAX_BODY_BYTES, a JSON object of bytes by "
                    "prefix (longest prefix wins); by default GitHub's webhooks may carry GitHub's 25 MB.")
    token_public_key: str | None = Field(
        default=None, description="PEM Ed25519 public key that verifies access tokens."
    )
    token_private_key: SecretStr | None = Field(
        default=None, description="PEM Ed25519 private key that mints access tokens (the `rig` tool, ingest)."
    )
    log_level: str = Field(default="INFO", description="Logging level.")
    trusted_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Network ranges (a JSON list of CIDRs) whose token-less calls the public agent runtime's routes "
                    "accept (it sends no credentials, docs/design.md §9), speaking as the agent they name; empty "
                    "(the default) refuses every token-less call. Set only for networks where nobody but the "
                    "runtime's pods can connect: ranges broader than /8 are refused, and loopback outside "
                    "development (a tunnel or relay in front of the edge makes every caller loopback).")
    edge_secret: SecretStr | None = Field(
        default=None,
        description="Shared by the edge and the services (never the agents): the edge signs the client address it "
                    "saw (X-Rig-Client) with it, and a service believes a forwarded address only with a valid "
                    "signature. At least 32 characters; `make run` and the test harness make one per run. "
                    "Required outside development by the edge and by a service with RIG_TRUSTED_NETWORKS.")

    def secrets(self) -> dict[str, SecretStr | None]:
        """Secret settings by name, checked for placeholders outside development."""
        return {name: value for name, value in self.__dict__.items() if isinstance(value, SecretStr)}

    @model_validator(mode="after")
    def refuse_placeholder_secrets(self) -> Self:
        """Fail at start-up when a secret still holds a placeholder in test or production."""
        if self.environment == "development":
            return self
        prefix = self.model_config.get("env_prefix") or ""
        for name, value in self.secrets().items():
            if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    f"{prefix}{name}".upper() + f" holds a placeholder value; set a real secret for {self.environment}"
                )
        return self

    @model_validator(mode="after")
    def refuse_unsafe_trust(self) -> Self:
        """Fail at start-up when RIG_TRUSTED_NETWORKS would trust everyone (see `rig_service.trusted`)."""
        networks: list[IPv4Network | IPv6Network] = list(self.trusted_networks)
        check_trusted_networks(networks, development=self.environment == "development",
                               edge_secret=self.edge_secret.get_secret_value() if self.edge_secret else None)
        return self
