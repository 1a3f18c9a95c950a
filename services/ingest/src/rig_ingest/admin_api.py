"""The token admin API (scope `admin`), which `rig tokens revoke` calls: TOKEN_REVOKED through the outbox.

Ingest refuses the token from the moment the revocation commits (it records it in its own revoked tokens, in the
same transaction); every other service refuses it once the TOKEN_REVOKED event reaches it (docs/design.md section 8).
"""

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rig_contracts import payloads as p
from rig_contracts.catalogue import TokenRevokedEvent
from rig_db import outbox
from rig_identity import Principal
from rig_identity.revocation import record as record_revocation
from rig_ingest.webhook import SOURCE
from rig_kit import ServiceKit
from rig_service.bodies import json_body

log = logging.getLogger(__name__)

_REVOKE = """
INSERT INTO revocations (jti, event_id, reason, revoked_by, expires_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (jti) DO NOTHING RETURNING event_id
"""
_EARLIER = "SELECT event_id::text FROM revocations WHERE jti = $1"
_LIST = """
SELECT jti, event_id::text, reason, revoked_by, expires_at, revoked_at FROM revocations
ORDER BY revoked_at DESC, jti LIMIT $1
"""


class Revocation(BaseModel):
    """Revoke one token by its id (`jti`); `expires_at` lets services forget the revocation once it expired."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jti: str = Field(min_length=1, max_length=200, pattern=r"^\S+$", description="The token's `jti` claim.")
    reason: str = Field(default="", max_length=1000, description="Why, kept with the revocation.")
    expires_at: AwareDatetime | None = Field(default=None, description="The token's own expiry, if known.")


def revocation_event(revocation: Revocation, by: str) -> TokenRevokedEvent:
    """The TOKEN_REVOKED event of a revocation; one key per token, so consumers act once."""
    data = p.TokenRevoked(jti=revocation.jti, expires_at=revocation.expires_at, revoked_by=by)
    return TokenRevokedEvent(source=SOURCE, subject=f"token:{revocation.jti}", key=f"token-revoked:{revocation.jti}",
                             data=data)


def admin_router(kit: ServiceKit) -> APIRouter:
    """`POST /api/admin/tokens/revoke` and `GET /api/admin/tokens/revoked`."""
    router = APIRouter(prefix="/api/admin/tokens", tags=["admin"])
    admin = kit.authenticator.require("admin")
    Admin = Annotated[Principal, Depends(admin)]  # noqa: N806
    RevocationBody = Annotated[Revocation, json_body(Revocation, after=admin)]  # noqa: N806

    @router.post("/revoke")
    async def revoke(who: Admin, revocation: RevocationBody) -> dict[str, Any]:
        """Revoke a token: TOKEN_REVOKED through the outbox, refused here at once; a repeat answers the first."""
        event = revocation_event(revocation, who.subject)
        async with kit.pool.acquire() as conn, conn.transaction():
            first = await conn.fetchval(_REVOKE, revocation.jti, event.id, revocation.reason, who.subject,
                                        revocation.expires_at)
            if first is None:
                earlier = await conn.fetchval(_EARLIER, revocation.jti)
                return {"jti": revocation.jti, "event_id": earlier, "duplicate": True}
            await outbox.add(conn, [outbox.OutboxEntry(event, kit.names.events)])
            await record_revocation(conn, kit.schema, revocation.jti, revocation.expires_at)
        kit.revocations.revoke(revocation.jti, revocation.expires_at)
        log.info("token %s revoked by %s", revocation.jti, who.subject)
        return {"jti": revocation.jti, "event_id": event.id, "duplicate": False}

    @router.get("/revoked")
    async def revoked(_who: Admin, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        """The latest revocations made here, newest first."""
        rows = await kit.pool.fetch(_LIST, limit)
        return {"revoked": [{**dict(row), "expires_at": iso(row["expires_at"]), "revoked_at": iso(row["revoked_at"])}
                            for row in rows]}

    return router


def iso(moment: datetime | None) -> str | None:
    """A timestamp as ISO 8601 text."""
    return moment.isoformat() if moment else None
