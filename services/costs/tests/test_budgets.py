"""Budgets from settings: an issue whose runs spent its cap gets one BUDGET_EXCEEDED (on which the router stops
assigning it), a repository's day likewise; one under its cap gets none; a rebuild announces nothing again."""

import json
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from costs_support import RUNS, cost, publish, recorded

from rig_contracts import Names
from rig_contracts.entries import EVENT_FIELD
from rig_db.pool import schema_name
from rig_kit.rebuild import END_FIELD, replay_entry
from rig_testing.waiting import eventually

ISSUE_CAP, REPO_DAY_CAP = 0.15, 0.18


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"costs_issue_budget_usd": ISSUE_CAP, "costs_repo_day_budget_usd": REPO_DAY_CAP})


async def exceeded(redis, names: Names, kind: str = "BUDGET_EXCEEDED") -> list[dict[str, Any]]:
    entries = await redis.xrange(names.events)
    events = [json.loads(fields[EVENT_FIELD.encode()]) for _id, fields in entries]
    return [e for e in events if e["type"] == kind]


def spent(subject: str) -> Decimal:
    return sum((c for r in RUNS if r.subject == subject and (c := cost(r.model, r.total())) is not None), Decimal(0))


async def test_a_spent_budget_is_announced_once_and_not_again_after_a_rebuild(costs, redis, key_prefix, admin,
                                                                              database_url, schema_suffix):
    names = Names(key_prefix)
    assert spent("acme/app#1") >= Decimal(str(ISSUE_CAP)) > spent("acme/lib#7"), "the recording fits the caps"
    await publish(redis, names, recorded())

    async def both() -> list[dict[str, Any]]:
        found = await exceeded(redis, names)
        return found if len(found) >= 2 else []
    found = await eventually(both, what="BUDGET_EXCEEDED for the issue and for the repository's day")
    by_scope = {e["data"]["scope"]: e for e in found}
    assert len(found) == 2 and set(by_scope) == {"issue", "repo_day"}
    issue = by_scope["issue"]
    assert (issue["subject"], issue["key"], issue["source"]) == ("acme/app#1", "budget:issue:acme/app#1", "costs")
    assert issue["data"]["repo"] == "acme/app" and issue["data"]["number"] == 1
    assert issue["data"]["spent_usd"] >= ISSUE_CAP == issue["data"]["limit_usd"]
    day = by_scope["repo_day"]
    assert (day["subject"], day["key"]) == ("acme/app", "budget:repo_day:acme/app@2026-11-02")
    assert day["data"]["spent_usd"] == pytest.approx(float(spent("acme/app#1")))  # acme/lib's day stays under
    # The warning share (80%) came first, once per budget; acme/lib#7 is warned only if it spent that much.
    warned = {(e["data"]["scope"], e["subject"]) for e in await exceeded(redis, names, "BUDGET_WARNING")}
    lib_warned = spent("acme/lib#7") >= Decimal(str(ISSUE_CAP)) * Decimal("0.8")
    assert warned == {("issue", "acme/app#1"), ("repo_day", "acme/app")} | (
        {("issue", "acme/lib#7")} if lib_warned else set())

    begun = (await costs.post("/api/admin/costs/rebuild", json={}, headers=admin)).json()
    for seq, event in enumerate(recorded(), start=1):
        await redis.xadd(names.replay("costs"), replay_entry(seq, event.to_json()))
    await redis.xadd(names.replay("costs"), {END_FIELD: begun["rebuild_id"], "last_seq": "0"})

    async def live() -> bool:
        return (await costs.get("/api/admin/costs/rebuild", headers=admin)).json()["state"] == "live"
    await eventually(live, what="the rebuild to finish")
    conn = await asyncpg.connect(database_url)
    try:  # the rebuild's batches committed before it went live: anything they wrote is in the outbox by now
        written = await conn.fetchval(f"SELECT count(*) FROM {schema_name('costs', schema_suffix)}.outbox "
                                      "WHERE payload LIKE '%BUDGET_%'")
    finally:
        await conn.close()
    assert written == 4 + lib_warned, "a rebuild does not announce a spent or nearly spent budget again"
