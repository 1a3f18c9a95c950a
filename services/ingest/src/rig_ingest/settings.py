"""Settings of the ingest service."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from rig_service.settings import PLACEHOLDER_SECRETS, CommonSettings


class IngestSettings(CommonSettings):
    """The ingest service's settings (`RIG_INGEST_…`)."""

    ingest_webhook_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="Webhook secrets, a JSON list; a delivery signed with any of them is accepted, so a secret "
                    "can be rotated by adding the new one, switching GitHub over, then removing the old one.")
    ingest_approval_label: str = Field(default="agent-ready", min_length=1,
                                       description="The issue label that approves an issue for the agents.")
    ingest_sweep_enabled: bool = Field(
        default=True, description="Run the missed-delivery sweep (needs the conductor App: RIG_GITHUB_CONDUCTOR_…; "
                                  "without it the sweep is off and says so at start-up).")
    ingest_sweep_interval_s: float = Field(default=60.0, gt=0,
                                           description="Seconds between two passes of the missed-delivery sweep.")
    ingest_sweep_lookback_s: float = Field(
        default=3 * 3600.0, gt=0,
        description="How far back a pass looks at the App's deliveries (GitHub keeps them 3 days).")
    ingest_sweep_retry_after_s: float = Field(
        default=300.0, gt=0,
        description="A redelivery asked for and not seen attempted within this many seconds is asked for again.")
    ingest_sweep_max_attempts: int = Field(default=3, ge=1,
                                           description="Redeliveries asked for per delivery GUID before giving up.")
    ingest_sweep_max_pages: int = Field(default=20, ge=1,
                                        description="Pages of 100 deliveries one pass reads at most.")

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
