"""What calls from agents and people share: a JSON body read after the caller, clear 4xx answers, store once.

An event is written to the outbox in the transaction that records it, so a 2xx means it will be published. An
event with an identity of its own (a client-given id or key, or a natural key) is recorded in `reported_events`
first: a retried post then returns the first event's id instead of making a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi import HTTPException, Request
from prometheus_client import Counter
from pydantic import ValidationError

from rig_contracts import Envelope
from rig_db import outbox
from rig_ingest.reporting import Refused
from rig_kit import ServiceKit
from rig_service.bodies import json_value

POSTED = Counter("rig_ingest_posted_total", "Calls from agents and people answered, by route and outcome",
                 ["route", "outcome"])

_RECORD = """
INSERT INTO reported_events (event_id, source, key, type) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING RETURNING event_id
"""

_FIRST = """
SELECT event_id::text, source FROM reported_events WHERE event_id = $1 OR (source = $2 AND key = $3)
ORDER BY event_id = $1 DESC LIMIT 1
"""


@dataclass(frozen=True)
class Stored:
    """The id of the event a call stands for, and whether an earlier call had already stored it."""

    event_id: str
    duplicate: bool


async def read_json(request: Request) -> Any:
    """The request's JSON body (400 when it is not JSON), read once the caller was admitted (`Gate.admit`).

    Its size is bounded before this reads it: the body limit in front of every route answers 413 past
    RIG_MAX_BODY_BYTES.
    """
    return json_value(await request.body())


def json_object(body: Any, what: str) -> dict[str, Any]:
    """`body` when it is a JSON object, else a 422 saying what was expected."""
    if not isinstance(body, dict):
        raise HTTPException(422, f"{what} must be a JSON object, got {type(body).__name__}")
    return body


def invalid(error: ValueError) -> HTTPException:
    """A 422 that says what is wrong with a body (field by field for a validation error), never echoing input."""
    if isinstance(error, ValidationError):
        problems = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                    for e in error.errors(include_url=False, include_context=False, include_input=False)]
        return HTTPException(422, problems)
    return HTTPException(422, str(error))


def refusal(error: Refused) -> HTTPException:
    """The HTTP answer to a refused post."""
    return HTTPException(error.status, error.detail)


async def store(conn: asyncpg.Connection, kit: ServiceKit, events: Sequence[tuple[Envelope, bool]]) -> list[Stored]:
    """Write each `(event, once)` to the outbox in the caller's transaction; `once`: return an earlier twin instead.

    A client-given id already used by another source is refused with 409, so nobody learns or takes over
    another subject's event.
    """
    results: list[Stored] = []
    fresh: list[outbox.OutboxEntry] = []
    for event, once in events:
        if once and await conn.fetchval(_RECORD, event.id, event.source, event.key, event.type) is None:
            first = await conn.fetchrow(_FIRST, event.id, event.source, event.key)
            if first is None or first["source"] != event.source:
                raise HTTPException(409, f"event id {event.id} is taken: give a new UUIDv7, or none")
            results.append(Stored(first["event_id"], duplicate=True))
            continue
        fresh.append(outbox.OutboxEntry(event, kit.names.events))
        results.append(Stored(event.id, duplicate=False))
    await outbox.add(conn, fresh)
    return results


async def store_one(kit: ServiceKit, event: Envelope, *, once: bool) -> Stored:
    """Store one event in a transaction of its own."""
    async with kit.pool.acquire() as conn, conn.transaction():
        (stored,) = await store(conn, kit, [(event, once)])
    return stored
