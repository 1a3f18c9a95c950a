"""Dead letters made by the real reclaimer: listed, sent back to their stream with the same event, dropped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from rig_bus import Outgoing, Publisher
from rig_bus.dead import count_dead, drop, list_dead, retry, retry_all
from rig_bus.groups import ensure_group
from rig_bus.messages import decode_fields
from rig_bus.reclaim import Reclaimer
from rig_contracts import Names, event_from_json
from rig_contracts.catalogue import AgentHeartbeatEvent

GROUP, CONSUMER = "costs", "costs-1"


def heartbeat(subject: str = "o/r#1") -> AgentHeartbeatEvent:
    return AgentHeartbeatEvent.of(source="agent:dev-e-node", subject=subject, key="hb:dev-e-node",
                                  data={"agent": "dev-e-node"})


async def nothing(_deliveries) -> None:
    raise AssertionError("every idle entry should have been dead-lettered, none retried")


async def dead_letter(redis: aioredis.Redis, names: Names, event: AgentHeartbeatEvent,
                      error: str | None = "ValueError: boom") -> str:
    """Publish `event`, deliver it once to the group and let the real reclaimer give up on it."""
    await ensure_group(redis, names.events, GROUP)
    [entry_id] = await Publisher(redis, names).publish([Outgoing.of(event, names.events, {"repo": "o/r"})])
    assert entry_id is not None
    delivered: Any = await redis.xreadgroup(GROUP, CONSUMER, {names.events: ">"}, count=10)
    assert [e.decode() for e, _ in delivered[0][1]] == [entry_id]
    if error:
        await redis.hset(names.errors(names.events, GROUP), entry_id, error)
    reclaimer = Reclaimer(redis, names, names.events, GROUP, CONSUMER, min_idle_ms=0, max_deliveries=1)
    assert await reclaimer.sweep(nothing) == 1
    return entry_id


async def test_a_dead_letter_lists_with_its_error_and_original_fields(redis, key_prefix):
    names = Names(key_prefix)
    event = heartbeat()
    entry_id = await dead_letter(redis, names, event)

    [letter] = await list_dead(redis, names)

    assert (letter.stream, letter.group, letter.entry_id, letter.deliveries, letter.consumer) == (
        names.events, GROUP, entry_id, 1, CONSUMER)
    assert letter.error == "ValueError: boom"
    assert event_from_json(letter.fields["event"]) == event
    assert letter.fields["repo"] == "o/r"
    assert (letter.event_id, letter.event_type) == (event.id, event.type)
    assert letter.failed_at.endswith("+00:00")
    assert await count_dead(redis, names) == 1
    assert await redis.xpending(names.events, GROUP) == {
        "pending": 0, "min": None, "max": None, "consumers": []}


async def test_retry_puts_the_same_event_back_for_the_group_that_failed(redis, key_prefix):
    names = Names(key_prefix)
    event = heartbeat()
    entry_id = await dead_letter(redis, names, event)
    [letter] = await list_dead(redis, names)

    new_id = await retry(redis, names, letter.dead_id)

    assert new_id != entry_id
    assert await list_dead(redis, names) == []
    [(found_id, fields)] = await redis.xrange(names.events, min=f"({entry_id}")
    assert found_id.decode() == new_id
    assert decode_fields(fields) == letter.fields
    assert event_from_json(decode_fields(fields)["event"]).id == event.id
    again = await redis.xreadgroup(GROUP, CONSUMER, {names.events: ">"}, count=10)
    assert [e.decode() for e, _ in again[0][1]] == [new_id]


async def test_retrying_or_dropping_an_unknown_id_says_where_to_look(redis, key_prefix):
    names = Names(key_prefix)
    for call in (retry, drop):
        with pytest.raises(KeyError, match="rig dead list"):
            await call(redis, names, "1-0")
        with pytest.raises(KeyError, match="not a stream entry id"):
            await call(redis, names, "not-an-id")


async def test_drop_removes_only_the_letter_given(redis, key_prefix):
    names = Names(key_prefix)
    await dead_letter(redis, names, heartbeat("o/r#1"))
    await dead_letter(redis, names, heartbeat("o/r#2"), error=None)
    first, second = await list_dead(redis, names)
    assert "consumer died" in second.error

    await drop(redis, names, first.dead_id)

    assert [d.dead_id for d in await list_dead(redis, names)] == [second.dead_id]
    with pytest.raises(KeyError):
        await drop(redis, names, first.dead_id)


async def test_retry_all_takes_the_letters_present_when_it_starts(redis, key_prefix):
    names = Names(key_prefix)
    events = [heartbeat(f"o/r#{i}") for i in range(5)]
    for event in events:
        await dead_letter(redis, names, event)
    seen: list[str] = []

    async def fail_again(letter, _new_id) -> None:
        # The retried entry fails again at once: it must not be retried a second time in the same run.
        seen.append(letter.event_id)
        await redis.xadd(names.dead, {"stream": letter.stream, "group": GROUP, "entry_id": _new_id,
                                      "deliveries": "1", "consumer": CONSUMER, "error": "again",
                                      "failed_at": letter.failed_at, "fields": json.dumps(letter.fields)})

    assert await retry_all(redis, names, fail_again, batch=2) == (5, [])
    assert seen == [e.id for e in events]
    again = await list_dead(redis, names)
    assert [d.event_id for d in again] == [e.id for e in events]
    assert {d.error for d in again} == {"again"}
    assert await redis.xlen(names.events) == 10


async def test_a_letter_whose_entry_was_trimmed_cannot_be_retried(redis, key_prefix):
    names = Names(key_prefix)
    entry_id = await dead_letter(redis, names, heartbeat())
    [letter] = await list_dead(redis, names)
    await redis.xadd(names.dead, {"stream": names.events, "group": GROUP, "entry_id": entry_id, "deliveries": "5",
                                  "consumer": CONSUMER, "error": "x", "failed_at": "2026-01-01T00:00:00+00:00",
                                  "fields": "{}"})
    [_, trimmed] = await list_dead(redis, names)
    with pytest.raises(ValueError, match="rig replay"):
        await retry(redis, names, trimmed.dead_id)
    assert await count_dead(redis, names) == 2

    assert await retry_all(redis, names) == (1, [trimmed.dead_id])
    assert [d.dead_id for d in await list_dead(redis, names)] == [trimmed.dead_id]
    assert letter.fields


async def test_two_operators_retrying_the_same_letter_send_it_back_once(redis, key_prefix):
    names = Names(key_prefix)
    await dead_letter(redis, names, heartbeat())
    [letter] = await list_dead(redis, names)

    outcomes = await asyncio.gather(*(retry(redis, names, letter.dead_id) for _ in range(5)), return_exceptions=True)

    assert len([o for o in outcomes if isinstance(o, str)]) == 1
    assert all(isinstance(o, KeyError) for o in outcomes if not isinstance(o, str))
    assert await redis.xlen(names.events) == 2
