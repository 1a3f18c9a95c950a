"""The client address behind the edge: set by the edge, signed with RIG_EDGE_SECRET, believed only when signed.

On one machine (or behind a tunnel) the edge and an attacker both connect from loopback, so a peer address
alone cannot tell them apart, and X-Forwarded-For is whatever the caller wrote. So:

- every process serves with uvicorn's proxy headers off: `request.client` is the real TCP peer;
- the edge drops any X-Forwarded-For and X-Rig-Client the caller sent, sets X-Forwarded-For to the peer it
  saw, and adds `X-Rig-Client: <address>;<unix time>;<HMAC-SHA256>` signed with the edge secret;
- a service takes the caller's address from X-Rig-Client when its signature is good and it is fresh, from
  the TCP peer when the header is absent, and takes no address at all (trusts nobody) when it is present but
  bad or stale.
"""

from __future__ import annotations

import hashlib
import hmac
import time

CLIENT_HEADER = "x-rig-client"
"""The edge's signed statement of the client address it saw."""

MAX_AGE_S = 60
"""How old (or how far ahead, for clock drift between hosts) a signed address may be; limits a replayed header."""


def attest(secret: str, client: str, now: float | None = None) -> str:
    """The X-Rig-Client value stating that the edge saw `client` now."""
    moment = int(time.time() if now is None else now)
    return f"{client};{moment};{_signature(secret, client, moment)}"


def attested_client(secret: str, value: str, now: float | None = None) -> str | None:
    """The address an X-Rig-Client value states, or None when it is malformed, forged or stale."""
    client, _, rest = value.partition(";")
    moment_text, _, signature = rest.partition(";")
    if not client or not moment_text.isdigit() or not signature:
        return None
    moment = int(moment_text)
    if abs((time.time() if now is None else now) - moment) > MAX_AGE_S:
        return None
    return client if hmac.compare_digest(signature, _signature(secret, client, moment)) else None


def _signature(secret: str, client: str, moment: int) -> str:
    message = f"rig-client\n{client}\n{moment}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
