"""What a webhook request looks like on the wire, as GitHub's delivery service (Hookshot) sends it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

HOOKSHOT_VERSION = "5a9d6b0"
"""The hex build id in `User-Agent: GitHub-Hookshot/<hex>` (any hex does; GitHub's changes over time)."""

USER_AGENT = f"GitHub-Hookshot/{HOOKSHOT_VERSION}"

INSTALLATION_TARGET_TYPE = "integration"
"""`X-GitHub-Hook-Installation-Target-Type` of an App's webhook: the target is the App (its id is the ID)."""


def encode(payload: Mapping[str, Any]) -> str:
    """The JSON text of a payload, compact as GitHub sends it; signed and sent byte for byte."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def signature_256(secret: str, body: bytes) -> str:
    """`X-Hub-Signature-256`: `sha256=` and the HMAC-SHA256 of the exact body bytes, in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_sha1(secret: str, body: bytes) -> str:
    """`X-Hub-Signature`: the legacy HMAC-SHA1 signature GitHub still sends next to the SHA-256 one."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def request_headers(*, event: str, guid: str, hook_id: int, app_id: int, secret: str,
                    body: bytes) -> dict[str, str]:
    """The headers of one delivery, in the order and spelling GitHub's delivery log shows."""
    return {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-GitHub-Delivery": guid,
        "X-GitHub-Event": event,
        "X-GitHub-Hook-ID": str(hook_id),
        "X-GitHub-Hook-Installation-Target-ID": str(app_id),
        "X-GitHub-Hook-Installation-Target-Type": INSTALLATION_TARGET_TYPE,
        "X-Hub-Signature": signature_sha1(secret, body),
        "X-Hub-Signature-256": signature_256(secret, body),
    }


def response_status(status_code: int) -> str:
    """The delivery log's `status` for a response: `OK` for 2xx, else `Invalid HTTP Response: <code>`."""
    return "OK" if 200 <= status_code < 300 else f"Invalid HTTP Response: {status_code}"


def verify(secret: str, body: bytes, signature_header: str | None) -> bool:
    """Whether `X-Hub-Signature-256` matches the body: what a receiver checks (used by tests and tools)."""
    if not signature_header:
        return False
    return hmac.compare_digest(signature_256(secret, body), signature_header)
