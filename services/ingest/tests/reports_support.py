"""Helpers of the tests of the routes agents and people call: settings with a key pair we can sign with, tokens."""

from __future__ import annotations

from typing import Any

from ingest_support import SECRET
from pydantic import SecretStr

from rig_identity import mint
from rig_ingest.settings import IngestSettings

AGENT = "dev-e-node"
REPO = "octo/widgets"


RUNTIME_HOST = "10.9.0.5"
"""Where the tests' ASGI client says it calls from (the `client` fixture): inside RUNTIME_NETWORK."""

RUNTIME_NETWORK = "10.9.0.0/16"
"""The public runtime's network, trusted where a test says so (loopback is refused outside development)."""


def settings_with(keys: tuple[str, str], database_url: str, redis_url: str, key_prefix: str, schema_suffix: str,
                  data_dir: str, **extra: Any) -> IngestSettings:
    """Ingest's settings for a test: its own schema and key prefix, verifying tokens with `keys`."""
    extra.setdefault("edge_secret", SecretStr("edge-secret-of-the-tests-" + "e" * 32))
    return IngestSettings(
        environment="test", database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
        schema_suffix=schema_suffix, data_dir=data_dir, token_public_key=keys[1],
        ingest_webhook_secrets=[SecretStr(SECRET)], **extra)


def bearer(keys: tuple[str, str], subject: str, *scopes: str) -> dict[str, str]:
    """An Authorization header with a token for `subject` with `scopes`."""
    return {"Authorization": f"Bearer {mint(keys[0], subject, scopes)}"}
