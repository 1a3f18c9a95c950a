"""Helpers of the ingest tests: the payload corpus, signed deliveries, and reading the outbox."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from rig_contracts.catalogue import EVENT_TYPES
from rig_contracts.envelope import Envelope
from rig_ingest.signature import sign

CORPUS = Path("/work/shared/fixtures/github-webhooks/api.github.com.json")
SECRET = "test-webhook-secret-1"
OLD_SECRET = "test-webhook-secret-0"


@cache
def corpus() -> dict[str, list[dict[str, Any]]]:
    return json.loads(CORPUS.read_text())


def every_payload() -> Iterator[tuple[str, int, dict[str, Any]]]:
    for event, payloads in corpus().items():
        for index, payload in enumerate(payloads):
            yield event, index, payload


def example(event: str, action: str | None = None, index: int = 0) -> dict[str, Any]:
    """A deep copy of the `index`-th corpus payload of `event` with `action`."""
    found = [p for p in corpus()[event] if action is None or p.get("action") == action]
    return copy.deepcopy(found[index])


def headers(body: bytes, event: str, guid: str | None = None, secret: str = SECRET) -> dict[str, str]:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": guid or str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, secret), "Content-Type": "application/json"}


async def deliver(client: httpx.AsyncClient, event: str, payload: dict[str, Any], guid: str | None = None,
                  secret: str = SECRET) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await client.post("/webhooks/github", content=body, headers=headers(body, event, guid, secret))


async def outbox_events(database_url: str, schema: str) -> list[Envelope]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(f"SELECT payload FROM {schema}.outbox ORDER BY seq")
    finally:
        await conn.close()
    events = []
    for row in rows:
        data = json.loads(row["payload"])
        events.append(EVENT_TYPES[data["type"]].model_validate(data))
    return events
