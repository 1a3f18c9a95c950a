"""PyGithub's GithubRetry as configured, against faults armed in the sandbox: 5xx with backoff, secondary and
primary rate limits, and their limits; what reached the sandbox is read from its request journal."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY

from rig_github import GitHubClient, RateLimitedError, Role, UnavailableError, marker


def retries(status: str, operation: str = "get_repo") -> float:
    return REGISTRY.get_sample_value(
        "rig_github_retries_total", {"role": "conductor", "operation": operation, "status": status}) or 0.0


async def test_a_5xx_is_retried_with_backoff_until_it_succeeds(github, conductor, repo):
    fault = await github.arm(kind="server_error", status=502, method="GET", path=f"/repos/{repo}", times=2)
    before, since = retries("502"), time.time()
    started = time.monotonic()
    found = await conductor.get_repo(repo)
    elapsed = time.monotonic() - started

    assert found.full_name == repo
    seen = await github.requests(since=since, path=f"/repos/{repo}")
    assert [s["status"] for s in seen] == [502, 502, 200]
    # urllib3 backoff: none before the first retry, factor * 2 = 0.4 s before the second.
    assert seen[2]["at"] - seen[1]["at"] >= 0.4
    assert elapsed >= 0.4
    assert retries("502") - before == 2
    assert (await github.fault(fault["id"]))["fired"] == 2


async def test_a_secondary_rate_limit_waits_for_retry_after(github, conductor, repo):
    await github.arm(kind="secondary_rate_limit", method="GET", path=f"/repos/{repo}", retry_after_s=1)
    since = time.time()
    started = time.monotonic()
    await conductor.get_repo(repo)
    elapsed = time.monotonic() - started

    first, second = await github.requests(since=since, path=f"/repos/{repo}")
    assert (first["status"], second["status"]) == (403, 200)
    assert second["at"] - first["at"] >= 1.0  # Retry-After: 1
    assert elapsed >= 1.0


async def test_a_primary_rate_limit_waits_until_the_reset(github, conductor, repo):
    fault = await github.arm(kind="primary_rate_limit", method="GET", path=f"/repos/{repo}", reset_in_s=2)
    since = time.time()
    await conductor.get_repo(repo)

    first, second = await github.requests(since=since, path=f"/repos/{repo}")
    assert (first["status"], second["status"]) == (403, 200)
    [fired] = (await github.fault(fault["id"]))["firings"]
    assert second["at"] >= int(fired["headers"]["X-RateLimit-Reset"])


async def test_a_rate_limit_longer_than_the_max_wait_fails_at_once(github, conductor, repo):
    await github.arm(kind="primary_rate_limit", method="GET", path=f"/repos/{repo}", reset_in_s=3600)
    since = time.time()
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        await conductor.get_repo(repo)
    assert time.monotonic() - started < 1
    assert caught.value.status == 403
    assert caught.value.reset_at is not None and caught.value.retry_after is not None
    assert caught.value.retry_after > 3000
    assert len(await github.requests(since=since, path=f"/repos/{repo}")) == 1


async def test_a_server_that_stays_down_fails_after_the_configured_retries(github, make_settings, repo):
    await github.arm(kind="server_error", status=503, path=f"/repos/{repo}", times=100)
    since = time.time()
    async with GitHubClient(make_settings(github_retry_total=2, github_retry_backoff_factor=0.05),
                            Role.CONDUCTOR) as client:
        with pytest.raises(UnavailableError) as caught:
            await client.get_repo(repo)
    assert caught.value.status == 503
    assert len(await github.requests(since=since, path=f"/repos/{repo}")) == 3


async def test_a_post_that_got_a_5xx_is_not_repeated(github, conductor, repo):
    number = await github.open_issue(repo)
    comments = f"/repos/{repo}/issues/{number}/comments"
    # GitHub posts the comment, then its answer is lost: a 502 comes back instead.
    await github.arm(kind="server_error", status=502, method="POST", path=comments, after_handling=True)
    since = time.time()
    with pytest.raises(UnavailableError):
        await conductor.comment_once(repo, number, "note", "hello")

    assert [(s["method"], s["status"]) for s in await github.requests(since=since, path=comments)] == [
        ("GET", 200), ("POST", 502)]  # one look for the marker, one POST, not repeated
    assert len(await github.read(comments)) == 1
    # The caller's own retry goes through the marker check and finds the comment GitHub did post.
    again = await conductor.comment_once(repo, number, "note", "hello")
    posted = await github.read(comments)
    assert not again.posted and again.id == posted[0]["id"]
    assert len(posted) == 1 and posted[0]["body"].endswith(marker("note"))
