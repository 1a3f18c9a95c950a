"""`rig dead list / retry / drop` on dead letters made by the real reclaimer on the real Redis."""

from __future__ import annotations

from cli_support import environment, json_of, rig

from rig_bus import Outgoing, Publisher
from rig_bus.groups import ensure_group
from rig_bus.messages import decode_fields
from rig_bus.reclaim import Reclaimer
from rig_contracts import Names, event_from_json
from rig_contracts.catalogue import AgentHeartbeatEvent

GROUP = "costs"


async def dead_letters(redis, names: Names, count: int) -> list[AgentHeartbeatEvent]:
    """Publish `count` events, deliver them once and let the reclaimer dead-letter them with an error."""
    events = [AgentHeartbeatEvent.of(source="agent:dev-e-node", subject=f"o/r#{i}", key="hb",
                                     data={"agent": "dev-e-node"}) for i in range(count)]
    await ensure_group(redis, names.events, GROUP)
    entry_ids = await Publisher(redis, names).publish([Outgoing.of(e, names.events) for e in events])
    await redis.xreadgroup(GROUP, "costs-1", {names.events: ">"}, count=count)
    for entry_id in entry_ids:
        await redis.hset(names.errors(names.events, GROUP), entry_id, "KeyError: 'budget'\nmore lines")
    reclaimer = Reclaimer(redis, names, names.events, GROUP, "costs-1", min_idle_ms=0, max_deliveries=1)

    async def nothing(_deliveries) -> None:
        raise AssertionError("nothing should be retried")

    await reclaimer.sweep(nothing)
    return events


async def stream_event_ids(redis, stream: str) -> list[str]:
    return [event_from_json(decode_fields(fields)["event"]).id for _, fields in await redis.xrange(stream)]


async def test_list_shows_each_dead_letter_with_its_event_and_error(tmp_path, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    events = await dead_letters(redis, names, 3)
    env = environment(tmp_path, redis_url=redis_url, key_prefix=key_prefix)

    machine = json_of(await rig(["dead", "list", "--json", "--count", "2"], env))
    human = await rig(["dead", "list"], env)

    assert machine["total"] == 3
    assert [d["fields"]["event"] for d in machine["dead_letters"]] == [e.to_json() for e in events[:2]]
    assert {(d["group"], d["deliveries"], d["error"]) for d in machine["dead_letters"]} == {
        (GROUP, 1, "KeyError: 'budget'\nmore lines")}
    assert human.exit_code == 0
    for text in ("3 of 3", "AGENT_HEARTBEAT", events[2].id, "KeyError: 'budget'", "rig dead retry"):
        assert text in human.stdout, text
    assert "more lines" not in human.stdout


async def test_retry_sends_one_back_with_the_same_event_and_drop_discards_one(tmp_path, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    events = await dead_letters(redis, names, 2)
    env = environment(tmp_path, redis_url=redis_url, key_prefix=key_prefix)
    first, second = json_of(await rig(["dead", "list", "--json"], env))["dead_letters"]

    retried = await rig(["dead", "retry", first["dead_id"]], env)
    dropped = await rig(["dead", "drop", second["dead_id"]], env)

    assert retried.exit_code == 0, retried.output
    assert f"retried {first['dead_id']}: back on {names.events}" in retried.stdout
    assert dropped.exit_code == 0 and second["dead_id"] in dropped.stdout
    assert await redis.xlen(names.dead) == 0
    assert await stream_event_ids(redis, names.events) == [events[0].id, events[1].id, events[0].id]
    again = await redis.xreadgroup(GROUP, "costs-1", {names.events: ">"}, count=10)
    assert len(again[0][1]) == 1, "the group that failed gets the retried event once more"


async def test_retry_all_sends_every_letter_back(tmp_path, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    events = await dead_letters(redis, names, 4)
    env = environment(tmp_path, redis_url=redis_url, key_prefix=key_prefix)

    result = await rig(["dead", "retry", "--all"], env)

    assert result.exit_code == 0, result.output
    assert "retried 4 dead letter(s)" in result.stdout
    assert await redis.xlen(names.dead) == 0
    assert (await stream_event_ids(redis, names.events))[4:] == [e.id for e in events]
    assert "no dead letters" in (await rig(["dead", "retry", "--all"], env)).stdout


async def test_mistakes_are_refused_with_what_to_do(tmp_path, redis, redis_url, key_prefix):
    env = environment(tmp_path, redis_url=redis_url, key_prefix=key_prefix)

    unknown = await rig(["dead", "retry", "1-0"], env)
    malformed = await rig(["dead", "drop", "abc"], env)
    neither = await rig(["dead", "retry"], env)

    assert unknown.exit_code == 1 and "rig dead list" in unknown.stderr
    assert malformed.exit_code == 1 and "not a stream entry id" in malformed.stderr
    assert neither.exit_code == 2 and "--all" in neither.stderr
    assert "No dead letters" in (await rig(["dead", "list"], env)).stdout
