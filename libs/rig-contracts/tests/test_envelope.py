"""The envelope: UUIDv7 ids, UTC timestamps, the causal chain, and fields that cannot be left empty."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from rig_contracts import new_event_id
from rig_contracts.catalogue import AgentHeartbeatEvent, IssueCancelledEvent


def heartbeat(**fields: object) -> AgentHeartbeatEvent:
    envelope = {"source": "agent:dev-e-node", "subject": "acme/shop#12", "key": "hb:dev-e-node", **fields}
    return AgentHeartbeatEvent.of(**envelope, data={"agent": "dev-e-node"})


def test_ids_are_uuid_version_7() -> None:
    ids = [new_event_id() for _ in range(100)]

    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert all(i == str(uuid.UUID(i)) for i in ids)
    assert len(set(ids)) == 100


def test_ids_are_time_ordered() -> None:
    before_ms = time.time_ns() // 1_000_000
    ids = [new_event_id() for _ in range(5000)]
    after_ms = time.time_ns() // 1_000_000

    assert ids == sorted(ids)
    stamps = [uuid.UUID(i).int >> 80 for i in ids]
    assert before_ms <= stamps[0] <= stamps[-1] <= after_ms


def test_each_event_gets_a_fresh_id_and_a_utc_time() -> None:
    first, second = heartbeat(), heartbeat()

    assert first.id != second.id
    assert first.id < second.id
    assert first.at.tzinfo is UTC
    assert abs(datetime.now(UTC) - first.at) < timedelta(seconds=5)


def test_an_id_that_is_not_a_uuid7_is_refused() -> None:
    with pytest.raises(ValidationError, match="id"):
        heartbeat(id=str(uuid.uuid4()))
    with pytest.raises(ValidationError, match="id"):
        heartbeat(id="event-1")


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        heartbeat(at=datetime(2026, 1, 2, 3, 4, 5))


def test_a_time_in_another_zone_is_stored_as_utc() -> None:
    event = heartbeat(at=datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))))

    assert event.at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert event.at.tzinfo is UTC
    assert '"at":"2026-01-02T03:04:05Z"' in event.to_json()


@pytest.mark.parametrize("field", ["source", "subject", "key"])
def test_identity_fields_cannot_be_empty(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        heartbeat(**{field: ""})


def test_a_caused_event_carries_the_chain() -> None:
    root = heartbeat()
    child = IssueCancelledEvent.of(**root.caused(source="router", subject="acme/shop#12", key="cancel:acme/shop#12"),
                                   data={"repo": "acme/shop", "number": 12, "reason": "label removed"})
    grandchild = heartbeat(**child.caused())

    assert (child.correlation_id, child.causation_id) == (root.id, root.id)
    assert (grandchild.correlation_id, grandchild.causation_id) == (root.id, child.id)


def test_chain_ids_must_be_event_ids() -> None:
    with pytest.raises(ValidationError, match="causation_id"):
        heartbeat(causation_id="whatever")
