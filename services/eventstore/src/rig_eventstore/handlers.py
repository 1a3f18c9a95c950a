"""The event store's consumer of `rig:events`: append each batch in arrival order, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from prometheus_client import Counter

from rig_bus import Delivery
from rig_bus.consumer import BatchHandler
from rig_contracts import Event
from rig_contracts.entries import EVENT_FIELD
from rig_contracts.parsing import UnknownEventType, parse_event
from rig_eventstore import store
from rig_kit import ServiceKit

log = logging.getLogger(__name__)

APPENDED = Counter("rig_eventstore_appended_total", "Events appended to the store")
DUPLICATES = Counter("rig_eventstore_duplicates_total", "Events the store already held")


def appender(kit: ServiceKit) -> BatchHandler:
    """The batch handler: every envelope is kept, known types are also checked for revoked tokens."""

    async def handle(deliveries: Sequence[Delivery]) -> None:
        stored = [store.StoredEvent.from_json(d.fields[EVENT_FIELD]) for d in deliveries]
        async with kit.pool.acquire() as conn, conn.transaction():
            new = await store.append(conn, stored)
            await kit.note_revocations(conn, _known(stored))
        APPENDED.inc(new)
        DUPLICATES.inc(len(stored) - new)

    return handle


def _known(stored: Sequence[store.StoredEvent]) -> list[Event]:
    known = []
    for event in stored:
        if event.type != "TOKEN_REVOKED":
            continue
        try:
            known.append(parse_event(_loads(event.body)))
        except UnknownEventType:
            log.warning("kept event %s of unknown type %s", event.event_id, event.type)
    return known


def _loads(body: str) -> dict[str, object]:
    import json

    loaded: dict[str, object] = json.loads(body)
    return loaded
