"""The router's side of the public agent runtime (issue 14): taken work shows in the stream, wakes never pile up,
and a push pool that asks over HTTP gets its stream's next entry (or 204)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.exceptions import ResponseError
from router_support import Issue, entries, events_of, publish, token

from rig_contracts import Names
from rig_router.app import create_app
from rig_testing.waiting import eventually

QUICK = {"router_start_lease_s": 0.3, "router_progress_lease_s": 600.0, "router_lease_sweep_s": 0.1}
AGENT = "dev-e-base"
RUNTIME_READS = ("repo", "issueNumber", "title", "priority", "stack", "testCommand", "buildCommand", "tools", "body",
                 "assignmentId")
"""The flat fields the public runtime reads from an assignment entry."""


@pytest.fixture
async def leasing(settings, github) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=QUICK), github)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://router") as http:
        assert (await http.get("/readyz")).status_code == 200
        yield http


async def _assigned(redis, names: Names, issue: Issue) -> str:
    await publish(redis, names, issue.approved(body="Fix it."))
    [event] = await eventually(lambda: events_of(redis, names, "ISSUE_ASSIGNED", issue.subject), what="assigned")
    return str(event.data.assignment_id)


async def _status(http: httpx.AsyncClient, issue: Issue, wanted: str) -> dict[str, Any] | None:
    item = (await http.get(f"/api/work-items/{issue.subject.replace('#', '/')}", headers=token())).json()
    return item if item.get("assignments") and item["assignments"][-1]["status"] == wanted else None


async def _take(redis, names: Names) -> list[Any]:
    """What the runtime's stream consumer does: read as group `agents`, consumer = agent id, pop one wake."""
    stream = names.assignments(AGENT)
    with contextlib.suppress(ResponseError):  # BUSYGROUP: the group is there already
        await redis.xgroup_create(stream, "agents", id="0", mkstream=True)
    found = await redis.xreadgroup("agents", AGENT, {stream: ">"}, count=1)
    await redis.lpop(names.signal(AGENT))
    return list(found[0][1])


async def test_taken_work_is_running_without_work_started_and_wake_entries_never_pile(leasing, redis, key_prefix,
                                                                                       run_id):
    names = Names(key_prefix)
    waiting, taken = Issue(f"acme/wait-{run_id}", 1), Issue(f"acme/take-{run_id}", 2)
    taken_id = await _assigned(redis, names, taken)
    await _assigned(redis, names, waiting)  # its wake entry is never popped: nobody came for it
    signal = names.signal(AGENT)
    await eventually(lambda: _at_least(redis, signal, 2), what="both wake entries")
    [(_id, fields)] = await _take(redis, names)
    assert fields[b"assignmentId"].decode() == taken_id

    # The sweep sees the entry delivered to the group: the assignment runs, though no WORK_STARTED came.
    await eventually(lambda: _status(leasing, taken, "running"), what="the taken assignment running")
    await asyncio.sleep(1.0)  # sweeps go on past both start leases: still one wake entry, and no `again:` pile
    assert await _status(leasing, waiting, "waiting")
    assert await redis.llen(signal) == 1
    assert not [w for w in await redis.lrange(signal, 0, -1) if w.startswith(b"again:")]
    # Once its wake entry is popped without taking the work, one `again:` entry comes back, and only one.
    await redis.delete(signal)
    await eventually(lambda: _at_least(redis, signal, 1), what="one wake entry for the waiting assignment")
    await asyncio.sleep(1.0)  # about three start leases of sweeps: had wakes piled, they would show now
    assert await redis.llen(signal) == 1


async def test_a_push_pool_asking_over_http_gets_its_streams_next_entry_or_204(leasing, redis, key_prefix, run_id):
    names = Names(key_prefix)
    pull = token(f"agent:{AGENT}", "assignments:pull")
    url = f"/api/assignments/next?agentId={AGENT}"
    assert (await leasing.get(url, headers=pull)).status_code == 204
    issue = Issue(f"acme/pull-{run_id}", 3)
    assignment_id = await _assigned(redis, names, issue)
    await eventually(lambda: _at_least(redis, names.signal(AGENT), 1), what="the wake entry")

    answer = await leasing.get(url, headers=pull)
    assert answer.status_code == 200, answer.text
    entry = answer.json()
    [streamed] = await entries(redis, names.assignments(AGENT))
    assert entry["id"] == assignment_id and entry["assignmentId"] == assignment_id
    assert {k: entry[k] for k in ("repo", "issueNumber", "title", "body", "stack")} == \
        {k: streamed[k] for k in ("repo", "issueNumber", "title", "body", "stack")}
    assert entry["body"] == "Fix it."
    # Every flat field the runtime's stream consumer reads is on the entry (docs/design.md section 9).
    assert set(RUNTIME_READS) <= set(streamed), set(RUNTIME_READS) - set(streamed)
    assert (await leasing.get(url, headers=pull)).status_code == 204
    assert await redis.llen(names.signal(AGENT)) == 0  # its wake taken with it: nothing keeps the pool awake
    assert (await redis.xpending(names.assignments(AGENT), "agents"))["pending"] == 0
    await eventually(lambda: _status(leasing, issue, "running"), what="the handed-out assignment running")
    assert (await leasing.get(url, headers=token("agent:review-e", "assignments:pull"))).status_code == 403


async def _at_least(redis, key: str, wanted: int) -> bool:
    return await redis.llen(key) >= wanted
