"""Idempotent publishing: one script records the id, appends, and pushes an assignment's wake signal."""

from __future__ import annotations

from rig_bus import Outgoing, Publisher
from rig_bus.messages import decode_fields
from rig_contracts import Names, event_from_json
from rig_contracts.catalogue import IssueAssignedEvent


def assignment(agent: str = "dev-e-node") -> IssueAssignedEvent:
    return IssueAssignedEvent.of(
        source="router", subject="o/r#7", key="assign:o/r#7:1",
        data={"repo": "o/r", "number": 7, "agent": agent, "stack": "node", "assignment_id": "a1"})


async def test_an_assignment_is_appended_and_signalled_once(redis, key_prefix):
    names = Names(key_prefix)
    event = assignment()
    message = Outgoing.of(event, names.assignments("dev-e-node"), {"repo": "o/r", "issueNumber": "7"},
                          signal=names.signal("dev-e-node"))
    publisher = Publisher(redis, names)
    [entry] = await publisher.publish([message])
    assert entry is not None
    assert await publisher.publish([message]) == [None]

    [(entry_id, fields)] = await redis.xrange(names.assignments("dev-e-node"))
    decoded = decode_fields(fields)
    assert entry_id.decode() == entry
    assert event_from_json(decoded["event"]) == event
    assert (decoded["repo"], decoded["issueNumber"]) == ("o/r", "7")
    assert await redis.lrange(names.signal("dev-e-node"), 0, -1) == [entry.encode()]
    assert await redis.ttl(names.published(event.id)) > 7 * 24 * 3600


async def test_a_batch_skips_only_the_ids_already_published(redis, key_prefix):
    names = Names(key_prefix)
    first, second = assignment(), assignment()
    publisher = Publisher(redis, names)
    await publisher.publish([Outgoing.of(first, names.events)])
    results = await publisher.publish([Outgoing.of(e, names.events) for e in (first, second, second)])
    assert results[0] is None and results[1] is not None and results[2] is None
    assert await redis.xlen(names.events) == 2
