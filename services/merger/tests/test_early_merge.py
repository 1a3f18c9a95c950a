"""A merge asked for by {repo, prNumber} before its approval (issue 14): it waits (202), is acted on when an
approval that counts arrives, never on anyone else's, and expires with its reason. No second ask is needed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from merger_support import REPO, of_type
from test_merging import publish, reaches, state_of

from rig_contracts import Names
from rig_contracts.catalogue import ReviewPassedEvent
from rig_merger.app import create_app
from rig_testing.waiting import eventually


def passed(number: int, sha: str, review_id: int, reviewer: str = "rig-review[bot]") -> ReviewPassedEvent:
    return ReviewPassedEvent.of(source="ingest", subject=f"{REPO}#{number}", key=f"review:{REPO}#{number}:{review_id}",
                                data={"repo": REPO, "pr_number": number, "review_id": review_id, "commit_id": sha,
                                      "reviewer": reviewer})


async def test_a_merge_asked_before_the_approval_is_acted_on_when_review_e_approves(
        merger, people, requester, redis, key_prefix) -> None:
    number, sha = await people.open_pull("early", {"src/early.py": "EARLY = 1\n"})
    await people.check(sha, "success")
    early = await merger.post("/api/merge", json={"repo": REPO, "prNumber": number}, headers=requester)
    assert early.status_code == 202, early.text
    assert (early.json()["state"], early.json()["reason"]) == ("waiting_for_approval", "waiting for the approval")
    assert (await state_of(merger, requester, number))["state"] == "waiting_for_approval"

    # Someone else's approval makes nothing of it; review-e's does, with no second ask.
    await publish(redis, key_prefix, passed(number, sha, 1, reviewer="mallory"))
    await people.approve(number, sha)  # on GitHub, where the merger checks it again; the webhook's event:
    await publish(redis, key_prefix, passed(number, sha, 2))
    done = await reaches(merger, requester, number, "merged")
    assert done["head_sha"] == sha and done["requested_by"] == "agent:review-e"
    assert len(await people.merge_calls(number)) == 1
    [requested] = await of_type(redis, Names(key_prefix), "MERGE_REQUESTED")
    assert requested.data.head_sha == sha and requested.causation_id is not None


@pytest.fixture
async def hasty(settings, people) -> AsyncIterator[httpx.AsyncClient]:
    """A merger whose waits for an approval last a fraction of a second."""
    app = create_app(settings.model_copy(update={"merger_await_approval_s": 0.3}), people.github)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://merger") as http:
        yield http


async def test_a_wait_for_an_approval_that_never_comes_expires_with_its_reason(hasty, people, requester, redis,
                                                                               key_prefix) -> None:
    number, sha = await people.open_pull("never", {"src/never.py": "NEVER = 1\n"})
    assert (await hasty.post("/api/merge", json={"repo": REPO, "prNumber": number},
                             headers=requester)).status_code == 202

    async def expired() -> dict[str, object] | None:
        found = await state_of(hasty, requester, number)
        return found if found["state"] == "expired" else None

    found = await eventually(expired, what="the wait to expire")
    assert "no approval that counts arrived within" in str(found["reason"])
    await publish(redis, key_prefix, passed(number, sha, 3))  # too late: an expired wait merges nothing
    await asyncio.sleep(1.0)  # the projection reads new events within a few milliseconds
    assert (await state_of(hasty, requester, number))["state"] == "expired"
    assert await people.merge_calls(number) == []
    assert await of_type(redis, Names(key_prefix), "MERGE_REQUESTED") == []

