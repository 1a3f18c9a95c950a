"""How the router reads `rig:events` next to other replicas: an entry it cannot read goes to the dead letters
(never acknowledged unread), and two replicas creating the same new item end with one item and one assignment."""

import asyncio
import json

import asyncpg
from router_support import Issue, events_of, publish

from rig_bus import Delivery
from rig_bus.reclaim import Reclaimer
from rig_contracts.entries import EVENT_FIELD
from rig_kit import ServiceKit
from rig_router import projection
from rig_router.app import MIGRATIONS
from rig_router.comments import CommentPoster
from rig_router.config_source import ConfigSource
from rig_router.emit import Emitter
from rig_router.handlers import Router
from rig_testing.waiting import eventually
from rig_workflow import Policy, decide


async def test_unreadable_entries_stay_pending_and_go_to_the_dead_letters(router, run_id):
    names, redis = router.names, router.redis
    future = json.loads(Issue(f"acme/future-{run_id}", 1).approved().to_json()) | {"v": 99}
    unreadable = {
        await redis.xadd(names.events, {EVENT_FIELD: "{not json"}): "JSONDecodeError",
        await redis.xadd(names.events, {"other": "field"}): "has no `event` field",
        await redis.xadd(names.events, {EVENT_FIELD: json.dumps(future)}): "99",
        await redis.xadd(names.events, {EVENT_FIELD: '{"type": "SOMETHING_NEW", "id": "x"}'}): "SOMETHING_NEW",
    }
    issue = Issue(f"acme/after-{run_id}", 3)
    await publish(redis, names, issue.approved())
    await eventually(lambda: events_of(redis, names, "ISSUE_ASSIGNED"), what="the next event routed all the same")

    errors = names.errors(names.events, "router")

    async def only_the_unreadable_pending() -> bool:
        pending = await redis.xpending_range(names.events, "router", min="-", max="+", count=100)
        return ({p["message_id"] for p in pending} == set(unreadable)
                and set(await redis.hkeys(errors)) == set(unreadable))
    await eventually(only_the_unreadable_pending, what="the unreadable entries pending, each with its error")

    # The router's reclaim loop dead-letters an entry after 5 deliveries 30 s apart; the same sweep, run now:
    sweeper = Reclaimer(redis, names, names.events, "router", "sweeper", min_idle_ms=0, max_deliveries=1)
    await sweeper.sweep(lambda _: asyncio.sleep(0))
    dead = {fields[b"entry_id"]: fields[b"error"].decode() for _, fields in await redis.xrange(names.dead)}
    assert sorted(dead) == sorted(unreadable)
    for entry_id, said in unreadable.items():
        assert said in dead[entry_id], dead[entry_id]
    assert (await redis.xpending(names.events, "router"))["pending"] == 0


async def test_two_replicas_creating_the_same_new_item_make_one_item_and_one_assignment(settings, redis, run_id):
    kit = ServiceKit("router", settings, migrations=MIGRATIONS)
    await kit.start()
    try:
        emitter = Emitter(kit.names, settings.router_maintainers, settings.router_config_path)
        replicas = [Router(kit, ConfigSource(None), emitter, CommentPoster(None)) for _ in range(2)]
        issue = Issue(f"acme/race-{run_id}", 5)
        # The same issue approved twice (labelled, unlabelled, labelled), each approval read by another replica.
        first, second = issue.approved("approved:1"), issue.approved("approved:2")
        await asyncio.gather(*(replica([Delivery(kit.names.events, f"1-{n}", {EVENT_FIELD: event.to_json()})])
                               for n, (replica, event) in enumerate(zip(replicas, (first, second), strict=True))))
        async with kit.pool.acquire() as conn:
            items = await conn.fetchval("SELECT count(*) FROM work_items WHERE subject = $1", issue.subject)
            assigned = await conn.fetchval("SELECT count(*) FROM assignments WHERE subject = $1", issue.subject)
            outcomes = await conn.fetch("SELECT key, outcome FROM work_item_history WHERE subject = $1 ORDER BY seq",
                                        issue.subject)
        assert (items, assigned) == (1, 1), [dict(r) for r in outcomes]
        assert len(outcomes) == 2, "both approvals recorded, the second one on the item the first one created"
    finally:
        await kit.stop()


async def test_a_second_transaction_waits_for_the_first_to_create_the_item(settings, database_url, run_id):
    kit = ServiceKit("router", settings, migrations=MIGRATIONS)
    await kit.start()
    subject = f"acme/wait-{run_id}#7"
    try:
        async with kit.pool.acquire() as first, kit.pool.acquire() as second:
            first_tx = first.transaction()
            await first_tx.start()
            assert await projection.load_many(first, [subject]) == {}

            async def read_in_second() -> dict[str, projection.ItemRow]:
                async with second.transaction():
                    return await projection.load_many(second, [subject])
            waiting = asyncio.create_task(read_in_second())
            watcher = await asyncpg.connect(database_url)
            try:
                async def second_waits_on_the_subject() -> bool:
                    return bool(await watcher.fetchval(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = $1",
                        second.get_server_pid()))
                await eventually(second_waits_on_the_subject, what="the second transaction to wait for the subject")
            finally:
                await watcher.close()
            item = decide(None, Issue(f"acme/wait-{run_id}", 7).approved(), Policy()).item
            assert item is not None
            await projection.save(first, [projection.ItemRow(item)])
            await first_tx.commit()
            found = await waiting
        assert found[subject].item.state == item.state, "the second reads the item the first committed"
    finally:
        await kit.stop()
