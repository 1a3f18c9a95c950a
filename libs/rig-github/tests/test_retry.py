"""PyGithub's GithubRetry as configured: 5xx with backoff, secondary and primary rate limits, and their limits."""

from __future__ import annotations

import time

import pytest
from fake_github_state import Seen
from prometheus_client import REGISTRY

from rig_github import GitHubClient, RateLimitedError, Role, UnavailableError


def retries(status: str, operation: str = "get_repo") -> float:
    return REGISTRY.get_sample_value(
        "rig_github_retries_total", {"role": "conductor", "operation": operation, "status": status}) or 0.0


def attempts(fake, path: str) -> list[Seen]:
    return [s for s in fake.state.seen if s.path == path]


async def test_a_5xx_is_retried_with_backoff_until_it_succeeds(fake, conductor):
    before = retries("502")
    started = time.monotonic()
    repo = await conductor.get_repo("o/flaky")
    elapsed = time.monotonic() - started

    assert repo.full_name == "o/flaky"
    seen = attempts(fake, "/repos/o/flaky")
    assert [s.status for s in seen] == [502, 502, 200]
    # urllib3 backoff: none before the first retry, factor * 2 = 0.4 s before the second.
    assert seen[2].at - seen[1].at >= 0.4
    assert elapsed >= 0.4
    assert retries("502") - before == 2


async def test_a_secondary_rate_limit_waits_for_retry_after(fake, conductor):
    started = time.monotonic()
    await conductor.get_repo("o/secondary")
    elapsed = time.monotonic() - started

    first, second = attempts(fake, "/repos/o/secondary")
    assert (first.status, second.status) == (403, 200)
    assert second.at - first.at >= 1.0  # Retry-After: 1
    assert elapsed >= 1.0


async def test_a_primary_rate_limit_waits_until_the_reset(fake, conductor):
    await conductor.get_repo("o/primary")

    first, second = attempts(fake, "/repos/o/primary")
    assert (first.status, second.status) == (403, 200)
    reset = int(first.at) + 2  # what the fake put in X-RateLimit-Reset
    assert second.at >= reset


async def test_a_rate_limit_longer_than_the_max_wait_fails_at_once(fake, conductor):
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        await conductor.get_repo("o/locked")
    assert time.monotonic() - started < 1
    assert caught.value.status == 403
    assert caught.value.reset_at is not None and caught.value.retry_after is not None
    assert caught.value.retry_after > 3000
    assert len(attempts(fake, "/repos/o/locked")) == 1


async def test_a_server_that_stays_down_fails_after_the_configured_retries(fake, make_settings):
    async with GitHubClient(make_settings(github_retry_total=2, github_retry_backoff_factor=0.05),
                            Role.CONDUCTOR) as client:
        with pytest.raises(UnavailableError) as caught:
            await client.get_repo("o/down")
    assert caught.value.status == 503
    assert len(attempts(fake, "/repos/o/down")) == 3


async def test_a_post_that_got_a_5xx_is_not_repeated(fake, conductor):
    with pytest.raises(UnavailableError):
        await conductor.comment_once("o/broken", 1, "note", "hello")
    assert len(attempts(fake, "/repos/o/broken/issues/1/comments")) == 2  # one look for the marker, one POST
    assert [s.method for s in attempts(fake, "/repos/o/broken/issues/1/comments")] == ["GET", "POST"]
