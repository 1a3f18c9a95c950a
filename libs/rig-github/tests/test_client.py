"""The pool: calls run on its threads (never the event loop's), at most `github_threads` at once (as the sandbox
saw them); metrics."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from prometheus_client import REGISTRY

from rig_github import GitHubClient, GitHubConfigError, NotFoundError, Role, clients


def calls(operation: str, outcome: str) -> float:
    return REGISTRY.get_sample_value(
        "rig_github_calls_total", {"role": "conductor", "operation": operation, "outcome": outcome}) or 0.0


def most_at_once(requests: list[dict[str, Any]]) -> int:
    """The most requests the sandbox was answering at the same time."""
    moments = sorted([(r["at"] + r["duration_s"], -1) for r in requests] + [(r["at"], 1) for r in requests])
    running = most = 0
    for _, change in moments:
        running += change
        most = max(most, running)
    return most


async def test_calls_run_on_pool_threads_not_the_event_loop(conductor):
    loop_thread = threading.current_thread()
    names = await asyncio.gather(*(conductor.run(lambda _gh: threading.current_thread().name) for _ in range(6)))
    assert all(name.startswith("github-conductor") for name in names)
    assert loop_thread.name not in names


async def test_the_pool_bounds_concurrency_and_keeps_the_loop_free(github, make_settings, repo):
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.02)

    async with GitHubClient(make_settings(github_threads=2), Role.CONDUCTOR) as client:
        await client.get_repo(repo)  # the token, fetched once
        await github.arm(kind="delay", method="GET", path=f"/repos/{repo}", delay_s=0.3, times=4)
        since = time.time()
        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        await asyncio.gather(*(client.get_repo(repo) for _ in range(4)))
        elapsed = time.monotonic() - started
        ticker.cancel()

    slow = await github.requests(since=since, path=f"/repos/{repo}")
    assert len(slow) == 4 and all(request["fault"] for request in slow)
    assert most_at_once(slow) == 2  # 4 calls of 0.3 s, two at a time
    assert elapsed >= 0.6
    assert ticks >= 20  # the event loop kept running meanwhile


async def test_concurrent_calls_each_get_their_own_answer(github, conductor):
    # Each pool thread has its own Github: PyGithub's connection object is not safe to share between threads.
    repo = await github.new_repo({f"notes/{i}.txt": f"note {i}\n" for i in range(40)})
    found = await asyncio.gather(*(conductor.get_file(repo, f"notes/{i}.txt") for i in range(40)))
    assert [file.text if file else None for file in found] == [f"note {i}\n" for i in range(40)]


async def test_each_call_is_counted_and_timed_by_outcome(conductor, repo):
    ok, missing = calls("get_pull", "ok"), calls("get_pull", "not_found")
    timed = REGISTRY.get_sample_value(
        "rig_github_call_seconds_count", {"role": "conductor", "operation": "get_pull"}) or 0.0
    with pytest.raises(NotFoundError):
        await conductor.get_pull(repo, 404)
    assert calls("get_pull", "ok") == ok
    assert calls("get_pull", "not_found") == missing + 1
    assert REGISTRY.get_sample_value(
        "rig_github_call_seconds_count", {"role": "conductor", "operation": "get_pull"}) == timed + 1
    assert REGISTRY.get_sample_value("rig_github_calls_in_flight", {"role": "conductor"}) == 0


async def test_a_role_without_credentials_is_refused_with_what_to_set(make_settings):
    settings = make_settings(github_dev_app_id=None, github_dev_installation_id=None, github_dev_private_key=None)
    made = clients(settings)
    assert set(made) == {Role.CONDUCTOR, Role.REVIEW}
    for client in made.values():
        await client.aclose()
    with pytest.raises(GitHubConfigError, match="RIG_GITHUB_DEV_APP_ID"):
        GitHubClient(settings, Role.DEV)
