"""Leases: an assignment nobody started is signalled again; one without progress is reassigned, then escalated."""

from collections.abc import AsyncIterator

import httpx
import pytest
from router_support import Issue, events_of, make_repo, open_issue, publish, token

from rig_contracts import Names
from rig_contracts.catalogue import WorkStartedEvent
from rig_router.app import create_app
from rig_testing.waiting import eventually

QUICK = {"router_start_lease_s": 0.4, "router_progress_lease_s": 1.5, "router_max_attempts": 2,
         "router_lease_sweep_s": 0.1}


@pytest.fixture
async def leasing(settings, github, request) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=getattr(request, "param", QUICK)), github)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://router") as http:
        assert (await http.get("/readyz")).status_code == 200
        yield http


async def test_unstarted_work_is_signalled_again_then_reassigned_then_escalated(leasing, redis, key_prefix, run_id):
    names = Names(key_prefix)
    started, idle = Issue(f"acme/started-{run_id}", 1), Issue(f"acme/idle-{run_id}", 2)
    await publish(redis, names, started.approved())
    [first] = await eventually(lambda: events_of(redis, names, "ISSUE_ASSIGNED", started.subject), what="assigned")
    await publish(redis, names, WorkStartedEvent.of(
        source="agent:dev-e-base", subject=started.subject, key="started:1", data={
            "repo": started.repo, "number": 1, "agent": "dev-e-base", "assignment_id": first.data.assignment_id}))
    await publish(redis, names, idle.approved())
    [assigned] = await eventually(lambda: events_of(redis, names, "ISSUE_ASSIGNED", idle.subject), what="assigned")

    signal = names.signal("dev-e-base")
    await eventually(lambda: _length(redis, signal, 2), what="both first wake entries")
    await redis.delete(signal)  # an agent popped both wakes, but took only the first assignment
    again = f"again:{assigned.data.assignment_id}".encode()
    await eventually(lambda: _has(redis, signal, again), what="the idle assignment signalled again")
    assert f"again:{first.data.assignment_id}".encode() not in await redis.lrange(signal, 0, -1), \
        "the started one is not signalled again"

    second = await eventually(lambda: _attempt(redis, names, idle.subject, 2), what="the reassignment")
    assert second.key == f"lease:{assigned.data.assignment_id}:reassign" and second.data.agent == "dev-e-base"
    [escalated] = await eventually(lambda: events_of(redis, names, "ISSUE_ESCALATED", idle.subject),
                                   what="the escalation after the last attempt")
    assert "no progress" in escalated.data.reason
    item = (await leasing.get(f"/api/work-items/{idle.repo}/2", headers=token())).json()
    assert item["state"] == "ESCALATED" and item["attempt"] == 2
    assert [a["status"] for a in item["assignments"]] == ["expired", "expired"]
    assert [h["type"] for h in item["history"]].count("LEASE_EXPIRED") == 2
    assert len(await events_of(redis, names, "ISSUE_ASSIGNED", idle.subject)) == 2


async def _has(redis, key: str, value: bytes) -> bool:
    return value in await redis.lrange(key, 0, -1)


async def _attempt(redis, names: Names, subject: str, attempt: int):
    found = [e for e in await events_of(redis, names, "ISSUE_ASSIGNED", subject) if e.data.attempt == attempt]
    return found[0] if found else None


@pytest.mark.parametrize("leasing", [{"router_lease_s": 0.5}], indirect=True)
async def test_a_pulled_assignment_not_acknowledged_within_its_lease_is_handed_out_again(
        leasing, redis, key_prefix, run_id, sandbox):
    repo = make_repo(sandbox, f"ios-{run_id}", {".rig-agent.yaml": "stack: ios\n"})
    names, issue = Names(key_prefix), Issue(repo, open_issue(sandbox, repo))
    await publish(redis, names, issue.approved(title="Build needs Xcode"))
    await eventually(lambda: events_of(redis, names, "ISSUE_ASSIGNED", issue.subject), what="assigned")
    pull = token("agent:ibuild-e", "assignments:pull")
    taken = await eventually(lambda: _next(leasing, pull), what="a pulled assignment")
    assert (await leasing.get("/api/assignments/next?agentId=ibuild-e", headers=pull)).status_code == 204
    again = await eventually(lambda: _next(leasing, pull), what="the same one once its lease lapsed")
    assert again["id"] == taken["id"] and again["leaseUntil"] > taken["leaseUntil"]


async def _next(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str] | None:
    answer = await http.get("/api/assignments/next?agentId=ibuild-e", headers=headers)
    return answer.json() if answer.status_code == 200 else None


async def _length(redis, key: str, wanted: int) -> bool:
    return await redis.llen(key) >= wanted
