"""Settings of the sandbox's webhook delivery, from `RIG_SANDBOX_…` environment variables.

`WebhookSettings` is a mixin: the sandbox's own settings class inherits it next to the common settings, so
each name is documented once and the dispatcher depends only on what it reads.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_WEBHOOK_SECRET = "sandbox-webhook-secret"  # noqa: S105 - a documented development default
"""The secret deliveries are signed with when none is set (ingest's development default matches it)."""


class WebhookSettings(BaseSettings):
    """Where the sandbox delivers webhooks, how it signs them, and how much chaos it adds on the way."""

    model_config = SettingsConfigDict(env_prefix="RIG_", extra="ignore", frozen=True)

    sandbox_webhook_url: str | None = Field(
        default=None,
        description="URL every webhook is POSTed to (ingest's /webhooks/github). Unset: deliveries are recorded "
                    "(listed by the deliveries API with status 'not sent') but not sent.",
    )
    sandbox_webhook_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_WEBHOOK_SECRET),
        description="Secret of the App's webhook: the key of the X-Hub-Signature-256 HMAC on every delivery.",
    )
    sandbox_fail_deliveries: bool = Field(
        default=False,
        description="Make every delivery fail on purpose: nothing is sent, and each delivery is recorded as "
                    "failed ('failed to connect', 502), as GitHub records one, ready to be redelivered.",
    )
    sandbox_chaos_seed: int | None = Field(
        default=None,
        description="Seed of the delivery chaos (late, out of order, duplicated, dropped). Unset: no chaos. The "
                    "same seed and the same emitted events give the same deliveries, so a run can be replayed.",
    )
    sandbox_chaos_late: float = Field(
        default=0.1, ge=0, le=1,
        description="With chaos on: probability that a delivery is held back before it is sent.",
    )
    sandbox_chaos_late_max_s: float = Field(
        default=2.0, ge=0,
        description="With chaos on: the longest a delivery is held back, whether late (a seeded time up to this) "
                    "or waiting for the next event to overtake it.",
    )
    sandbox_chaos_reorder: float = Field(
        default=0.1, ge=0, le=1,
        description="With chaos on: probability that a delivery swaps places with the next one.",
    )
    sandbox_chaos_duplicate: float = Field(
        default=0.05, ge=0, le=1,
        description="With chaos on: probability that a delivery is sent twice with the same X-GitHub-Delivery GUID.",
    )
    sandbox_chaos_drop: float = Field(
        default=0.05, ge=0, le=1,
        description="With chaos on: probability that a delivery is dropped: never sent, recorded as failed "
                    "('failed to connect', 502) so it shows in the deliveries API and can be redelivered.",
    )
    sandbox_delivery_timeout_s: float = Field(
        default=10.0, gt=0,
        description="Seconds a receiver has to answer a delivery (GitHub: 10) before it is recorded 'timed out'.",
    )

    @field_validator("sandbox_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        """Refuse at start-up a URL deliveries could never reach; an empty value means unset."""
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"RIG_SANDBOX_WEBHOOK_URL must be an http(s) URL such as "
                             f"http://127.0.0.1:8000/webhooks/github, not {value!r}")
        return value.strip()
