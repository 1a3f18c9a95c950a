"""Settings of the ingest service."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from rig_service.settings import PLACEHOLDER_SECRETS, CommonSettings

GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB; anything larger did not come from GitHub."""


class IngestSettings(CommonSettings):
    """The ingest service's settings (`RIG_INGEST_…`)."""

    ingest_webhook_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="Webhook secrets, a JSON list; a delivery signed with any of them is accepted, so a secret "
                    "can be rotated by adding the new one, switching GitHub over, then removing the old one.")
    ingest_max_body_bytes: int = Field(default=GITHUB_MAX_PAYLOAD_BYTES, gt=0,
                                       description="Largest webhook body accepted (413 above it).")
    ingest_approval_label: str = Field(default="agent-ready", min_length=1,
                                       description="The issue label that approves an issue for the agents.")

    @model_validator(mode="after")
    def require_webhook_secrets(self) -> Self:
        """Outside development, refuse to start without a real webhook secret."""
        if self.environment == "development":
            return self
        if not self.ingest_webhook_secrets:
            raise ValueError(f"RIG_INGEST_WEBHOOK_SECRETS is empty; set a JSON list of secrets for {self.environment}")
        for secret in self.ingest_webhook_secrets:
            if secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError(f"RIG_INGEST_WEBHOOK_SECRETS holds a placeholder value; set real secrets for "
                                 f"{self.environment}")
        return self
