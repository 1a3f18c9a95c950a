"""Concurrency limits: per pool and per repository; the waiting ones go out by priority, then age."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from router_support import Issue, entries, events_of, publish, token

from rig_contracts import Names
from rig_github import GitHubSettings
from rig_router.app import create_app
from rig_testing.waiting import eventually

Start = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def limited(settings) -> Start:
    @asynccontextmanager
    async def start(**limits: object) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=limits), GitHubSettings(github_api_url="http://127.0.0.1:9"))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://router") as http:
            assert (await http.get("/readyz")).status_code == 200
            yield http
    return start


async def handed_out(redis, names: Names) -> list[str]:
    found = await entries(redis, names.assignments("dev-e-base"))
    return [entry["repo"] + "#" + entry["issueNumber"] for entry in found]


async def test_a_pool_limit_queues_the_rest_by_priority_then_age(limited, redis, key_prefix, run_id):
    names, repo = Names(key_prefix), f"acme/q-{run_id}"
    plain, low, high = Issue(repo, 1), Issue(repo, 2), Issue(repo, 3)
    async with limited(router_pool_limits={"dev-e-base": 1}) as http:
        await publish(redis, names, plain.approved(), low.approved(labels=("agent-ready", "priority:low")),
                      high.approved(labels=("agent-ready", "priority:high")))
        await eventually(lambda: handed_out(redis, names), what="the first hand-out")
        queue = (await http.get("/api/queue", headers=token())).json()["agents"]["dev-e-base"]
        assert (queue["depth"], queue["queued"]) == (3, 2)
        assert await handed_out(redis, names) == [high.subject], "the high priority one goes first"
        assert [e.subject for e in await events_of(redis, names, "ISSUE_ASSIGNED")] == [high.subject]

        await publish(redis, names, high.pr_created(30))  # its dev work arrived: room for the next
        await eventually(lambda: _count(redis, names, 2), what="the second hand-out")
        await publish(redis, names, plain.pr_created(31))
        await eventually(lambda: _count(redis, names, 3), what="the third hand-out")
        assert await handed_out(redis, names) == [high.subject, plain.subject, low.subject]
        assert await redis.llen(names.signal("dev-e-base")) == 3
        assert len(await events_of(redis, names, "ISSUE_ASSIGNED")) == 3


async def test_a_repository_limit_leaves_other_repositories_alone(limited, redis, key_prefix, run_id):
    names = Names(key_prefix)
    busy, other = f"acme/busy-{run_id}", f"acme/other-{run_id}"
    first, second, elsewhere = Issue(busy, 1), Issue(busy, 2), Issue(other, 1)
    async with limited(router_repo_limit=1) as http:
        await publish(redis, names, first.approved(), second.approved(), elsewhere.approved())
        await eventually(lambda: _count(redis, names, 2), what="one per repository")
        assert sorted(await handed_out(redis, names)) == sorted([first.subject, elsewhere.subject])
        await publish(redis, names, first.unapproved())  # cancelled: its repository has room again
        await eventually(lambda: _count(redis, names, 3), what="the queued one handed out")
        assert (await http.get("/api/queue", headers=token())).json()["agents"]["dev-e-base"]["queued"] == 0


async def _count(redis, names: Names, wanted: int) -> bool:
    return await redis.xlen(names.assignments("dev-e-base")) >= wanted
