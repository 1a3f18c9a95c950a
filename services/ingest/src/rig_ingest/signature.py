"""GitHub's `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, checked against every configured secret."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from pydantic import SecretStr

PREFIX = "sha256="
"""How GitHub starts the header's value."""


def sign(body: bytes, secret: str) -> str:
    """The header value GitHub sends for `body` signed with `secret`."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secrets: Sequence[SecretStr]) -> bool:
    """Whether `header` signs `body` with one of `secrets` (constant-time; all are tried, rotation-friendly)."""
    if not header or not header.startswith(PREFIX):
        return False
    given = header.encode("ascii", errors="replace")
    matched = False
    for secret in secrets:
        expected = sign(body, secret.get_secret_value()).encode()
        # Every secret is compared, so the time taken does not tell which one matched.
        matched = hmac.compare_digest(expected, given) or matched
    return matched
