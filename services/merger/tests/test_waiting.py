"""Waiting without polling: GitHub's `unknown` mergeability is re-checked on a bounded, backed-off schedule with no
event arriving, and a merger without GitHub credentials records requests and says why they wait."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from merger_support import REPO, World

from rig_github import GitHubSettings
from rig_merger.app import create_app
from rig_testing.sandbox import sandbox_process
from rig_testing.waiting import eventually

UNKNOWN_MAX_S = 4.0


@pytest.fixture
def sandbox_url(tmp_path) -> Iterator[str]:
    """A sandbox whose `mergeable_state` stays `unknown` for 2-4 s after each push, as GitHub's does for a while."""
    with sandbox_process(tmp_path / "sandbox", RIG_SANDBOX_MERGEABLE_UNKNOWN_MAX_S=str(UNKNOWN_MAX_S),
                         RIG_SANDBOX_CHAOS_SEED="5") as url:
        yield url


async def test_unknown_mergeability_is_rechecked_with_backoff_until_it_merges(merger, people: World,
                                                                               requester) -> None:
    number, sha = await people.open_pull("slow", {"src/slow.py": "SLOW = 1\n"})
    await people.approve(number, sha)
    await people.check(sha, "success")
    await people.push("main", {"NEWS.md": "Unrelated.\n"})  # the base moved: mergeability is computed again
    answer = await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha},
                               headers=requester)
    assert answer.status_code == 202

    async def merged() -> bool:
        found = (await merger.get(f"/api/merge/{REPO}/{number}", headers=requester)).json()
        return found["state"] == "merged"
    await eventually(merged, what="the merge once GitHub knows mergeability (no event is sent in this test)")
    reads = await people.ask("GET", f"/requests?method=GET&path=/repos/{REPO}/pulls/{number}&limit=1000")
    # 0.2 s doubling (0.2, 0.6, 1.4, 3.0, 6.2 s after the first): a handful of reads, never a tight poll.
    assert 2 <= len(reads) <= 7, [r["at"] for r in reads]
    assert len(await people.merge_calls(number)) == 1


@pytest.fixture
async def uncredentialed(settings, redis) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, GitHubSettings(github_api_url="http://127.0.0.1:9"))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://merger") as http:
        assert (await http.get("/readyz")).status_code == 200
        yield http


async def test_without_github_credentials_requests_are_kept_and_say_why_they_wait(uncredentialed,
                                                                                  requester) -> None:
    body = {"repo": REPO, "pr_number": 3, "head_sha": "c" * 40}
    assert (await uncredentialed.post("/api/merge", json=body, headers=requester)).status_code == 202

    async def explained() -> dict[str, str] | None:
        found = (await uncredentialed.get(f"/api/merge/{REPO}/3", headers=requester)).json()
        return found if found["reason"] == "no GitHub credentials" else None
    found = await eventually(explained, what="the reason")
    assert found["state"] == "waiting" and "RIG_GITHUB_CONDUCTOR_APP_ID" in found["detail"]
