"""`POST /api/events`: agents and people report what GitHub cannot see, in our catalogue's form, with our tokens.

The body is `{type, subject, key?, data, id?, source?, v?, at?, correlation_id?, causation_id?}`; the source is
the token's subject, which may speak only as itself and post only its role's types (`reporting`). A body with
`agentId` is the public agent runtime's form and goes to `runtime_api` instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from rig_contracts import EVENT_TYPES, Envelope, new_event_id, parse_event
from rig_identity import Principal
from rig_ingest.admin_api import admin_router
from rig_ingest.posting import POSTED, invalid, json_object, read_json, refusal, store_one
from rig_ingest.reporting import Refused, check_type, with_speaker
from rig_ingest.runtime_api import EVENTS_SCOPE, RuntimeCalls, runtime_router
from rig_ingest.settings import IngestSettings
from rig_ingest.trust import Gate
from rig_kit import ServiceKit

RUNTIME_MARK = "agentId"
"""The field that tells the public runtime's form from ours."""


class Posting(BaseModel):
    """An event as an agent or a person posts it; ingest fills in the source, and the id and key when absent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = Field(min_length=1, description="A catalogue type the caller may post, e.g. WORK_STARTED.")
    subject: str = Field(min_length=1, max_length=300, description="The work item, `owner/repo#123`.")
    data: dict[str, Any] = Field(description="The type's payload; the speaker field (agent, reporter) may be left "
                                             "out and is taken from the token.")
    key: str | None = Field(default=None, min_length=1, max_length=500,
                            description="Natural identity; a second post with this key returns the first event. "
                                        "Stored as `reported:<source>:<key>`, so it never equals a GitHub fact's key.")
    id: str | None = Field(default=None, description="A UUIDv7 of the client's; a second post returns the first.")
    source: str | None = Field(default=None, description="Must be the token's subject when given.")
    v: int | None = Field(default=None, ge=1, description="Version of `data`; the current one when absent.")
    at: AwareDatetime | None = Field(default=None, description="When it happened; now when absent.")
    correlation_id: str | None = Field(default=None, description="Id of the event that started the chain.")
    causation_id: str | None = Field(default=None, description="Id of the event that caused this one.")


def event_of(principal: Principal, body: dict[str, Any]) -> tuple[Envelope, bool]:
    """The event a post means and whether it has an identity of its own (id or key); 4xx for what is wrong."""
    try:
        posting = Posting.model_validate(body)
    except ValidationError as error:
        raise invalid(error) from error
    source = posting.source or principal.subject
    if not principal.may_speak_as(source):
        raise HTTPException(403, f"token of {principal.subject} may not speak as {source}: a subject speaks only "
                                 "as itself")
    if posting.type not in EVENT_TYPES:
        raise HTTPException(422, f"unknown event type {posting.type!r}: see docs/events.json for the catalogue")
    try:
        check_type(source, posting.type)
        data = with_speaker(posting.type, posting.data, source)
    except Refused as error:
        raise refusal(error) from error
    event_id = posting.id or new_event_id()
    raw = {**posting.model_dump(exclude_none=True), "id": event_id, "source": source, "data": data,
           "key": reported_key(source, posting.key) if posting.key else f"{posting.type.lower()}:{source}:{event_id}"}
    try:
        return parse_event(raw), posting.id is not None or posting.key is not None
    except ValueError as error:  # a ValidationError, or a version this code cannot read
        raise invalid(error) from error


def reported_key(source: str, key: str) -> str:
    """A client's key in its source's namespace, so that it never equals another source's key.

    Consumers act once per key: a client choosing a GitHub fact's key (`pr:owner/repo#12`) would otherwise make
    the real fact look like a duplicate ("key squatting"). The same source sending the same key again still gets
    the same key, so its retries stay one event.
    """
    return f"reported:{source}:{key}"


def events_router(kit: ServiceKit, gate: Gate, runtime: RuntimeCalls) -> APIRouter:
    """`POST /api/events`, both forms."""
    router = APIRouter(tags=["events"])

    @router.post("/api/events", status_code=202)
    async def post_event(request: Request) -> dict[str, Any]:
        """Store one reported event through the outbox; answers its id (the first one's, for a repeat)."""
        await gate.admit(request, EVENTS_SCOPE)
        body = json_object(await read_json(request), "an event")
        if RUNTIME_MARK in body:
            return await runtime.event(request, body)
        principal = await gate.token_holder(request, EVENTS_SCOPE)
        event, once = event_of(principal, body)
        stored = await store_one(kit, event, once=once)
        POSTED.labels("events", "duplicate" if stored.duplicate else "stored").inc()
        return {"id": stored.event_id, "duplicate": stored.duplicate}

    return router


def reporting_routers(kit: ServiceKit, settings: IngestSettings) -> list[APIRouter]:
    """Every route of agents and people: our events, the public runtime's calls, the token admin API."""
    gate = Gate(kit.authenticator)
    runtime = RuntimeCalls(kit, gate)
    return [events_router(kit, gate, runtime), runtime_router(runtime), admin_router(kit)]
