"""The envelope every event travels in: identity, chain, subject and natural key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

import uuid_utils
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

UUID7_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
"""A UUIDv7 in its canonical lowercase text form, as `new_event_id` writes it."""


def new_event_id() -> str:
    """Return a fresh UUIDv7 as text: time-ordered, unique, the idempotency key everywhere."""
    return str(uuid_utils.uuid7())


def utc_now() -> datetime:
    """Return the current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


TYPE_DESCRIPTION = "Event type name, e.g. ISSUE_APPROVED; selects the shape of `data`."
"""Description of `type`, shared by every event class."""

VERSION_DESCRIPTION = "Schema version of `data`; older versions are upcast when read."
"""Description of `v`, shared by every event class."""

DATA_DESCRIPTION = "The typed payload for `type`."
"""Description of `data`, shared by every event class."""


class Payload(BaseModel):
    """Base of every event's typed `data`: frozen, unknown fields refused."""

    # Serialised models always carry every field, so the documented wire schema lists them all as required.
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_serialization_defaults_required=True)


class Envelope(BaseModel):
    """Fields common to every event; subclasses fix `type` and the shape of `data`."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_serialization_defaults_required=True)

    id: str = Field(default_factory=new_event_id, pattern=UUID7_PATTERN,
                    description="UUIDv7; the idempotency key everywhere.")
    type: str = Field(description=TYPE_DESCRIPTION)
    v: int = Field(default=1, ge=1, description=VERSION_DESCRIPTION)
    at: AwareDatetime = Field(default_factory=utc_now,
                              description="When the fact happened or the decision was made (UTC).")
    source: str = Field(min_length=1, description="Producer: ingest, router, merger, agent:<id>, human:<login>.")
    subject: str = Field(min_length=1,
                         description="The work item, `owner/repo#123`, or `owner/repo@sha` when unknown.")
    key: str = Field(min_length=1, description="The fact's natural identity; consumers act once per key.")
    correlation_id: str | None = Field(default=None, pattern=UUID7_PATTERN,
                                       description="Id of the event that started the chain.")
    causation_id: str | None = Field(default=None, pattern=UUID7_PATTERN,
                                     description="Id of the event that caused this one.")
    data: Any = Field(description=DATA_DESCRIPTION)

    @field_validator("at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        # Any offset is accepted and stored as UTC, so every producer's timestamps read alike on the wire.
        return value.astimezone(UTC)

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
