"""The envelope every event travels in: identity, chain, subject and natural key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field


def new_event_id() -> str:
    """Return a fresh UUIDv7 as text: time-ordered, unique, the idempotency key everywhere."""
    return str(uuid_utils.uuid7())


def utc_now() -> datetime:
    """Return the current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


class Payload(BaseModel):
    """Base of every event's typed `data`: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(BaseModel):
    """Fields common to every event; subclasses fix `type` and the shape of `data`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_event_id, description="UUIDv7; the idempotency key everywhere.")
    type: str = Field(description="Event type name, e.g. ISSUE_APPROVED.")
    v: int = Field(default=1, ge=1, description="Schema version of `data`.")
    at: datetime = Field(default_factory=utc_now, description="When the fact happened or the decision was made (UTC).")
    source: str = Field(description="Producer: ingest, router, merger, agent:<id>, human:<login>.")
    subject: str = Field(description="The work item, `owner/repo#123`, or `owner/repo@sha` when unknown.")
    key: str = Field(description="The fact's natural identity; consumers act once per key.")
    correlation_id: str | None = Field(default=None, description="Id of the event that started the chain.")
    causation_id: str | None = Field(default=None, description="Id of the event that caused this one.")
    data: Any = Field(description="The typed payload for `type`.")

    def caused(self, **fields: Any) -> dict[str, Any]:
        """Return the chain fields for an event caused by this one."""
        return {"correlation_id": self.correlation_id or self.id, "causation_id": self.id, **fields}

    def to_json(self) -> str:
        """Serialise to the JSON text that travels on the wire."""
        return self.model_dump_json()

    @classmethod
    def of(cls, **fields: Any) -> Self:
        """Build an event, validating `data` against this type's payload model."""
        return cls.model_validate(fields)
