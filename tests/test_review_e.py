"""Review-E as a real process (`python -m rig_agent --agent review-e`, scripted provider) against the sandbox and a
real ingest: it reviews the diff `base...head` at the assigned SHA, whatever its size (the prompt goes on stdin),
with no tools, never approves files it could not see, and submits nothing when the head moved while it read."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from agent_support import (
    REPO,
    agent_url,
    base_env,
    ingest_for_agents,
    run_agent,
    start_agent,
    stream_events,
    transcript,
)
from github_sandbox_support import Sandbox, sandbox_with_app

from rig_contracts import Names
from rig_contracts.catalogue import ReviewAssignedEvent
from rig_contracts.entries import EVENT_FIELD
from rig_contracts.payloads import ReviewAssigned
from rig_testing.waiting import eventually

pytestmark = pytest.mark.slow

APPROVE = {"verdict": "approve", "summary": "Looks right.", "comments": []}


@pytest.fixture
async def system(tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    async with ingest_for_agents(tmp_path, database_url, redis_url, key_prefix, schema_suffix) as running:
        yield running


@pytest.fixture
async def sandbox(tmp_path):
    async with sandbox_with_app(tmp_path / "sandbox") as started:
        yield started


def approving(tmp_path: Path, wait_s: float = 0.0) -> Path:
    return transcript(tmp_path / f"review-{wait_s}.jsonl", {"kind": "meta", "model": "claude-sonnet-4-5"},
                      {"kind": "turn", "usage": {"input_tokens": 500, "output_tokens": 60}},
                      {"kind": "wait", "seconds": wait_s},
                      {"kind": "result", "text": f"Reviewed.\n```json\n{json.dumps(APPROVE)}\n```"})


async def open_and_assign(sandbox: Sandbox, redis: Any, names: Names, files: dict[str, Any]) -> tuple[int, str]:
    """A PR with `files` on its branch, assigned to review-e at its head as the router does it."""
    async with sandbox.roles() as gh:
        await sandbox.post(f"/repos/{REPO}/commits", {"branch": "feature", "files": files})
        pull = await gh.dev.open_pull(REPO, head="feature", title="Add things", body="Closes #1")
    sha = pull.head_sha
    event = ReviewAssignedEvent(source="router", subject=f"{REPO}#1", key=f"review:{REPO}#{pull.number}:{sha}",
                                data=ReviewAssigned(repo=REPO, pr_number=pull.number, head_sha=sha, round=1,
                                                    assignment_id="r1"))
    await redis.xadd(names.assignments("review-e"), {EVENT_FIELD: event.to_json(), "repo": REPO,
                                                     "issueNumber": str(pull.number), "title": "Add things"})
    await redis.lpush(names.signal("review-e"), "1")
    return pull.number, sha


async def session_line(redis: Any, names: Names) -> dict[str, Any] | None:
    """The scripted provider's first line of the run: what it got on stdin and whether it had tools."""
    for _id, fields in await redis.xrange(names.runlogs):
        message = fields[b"message"].decode()
        if message.startswith('{"type": "session"'):
            return dict(json.loads(message))
    return None


async def reviews_of(sandbox: Sandbox, number: int) -> list[tuple[str, str, str]]:
    async with sandbox.roles() as gh:
        return [(r.state, r.commit_id, r.body) for r in await gh.conductor.list_reviews(REPO, number)]


def env_for(tmp_path, system, sandbox, key_prefix, url, script) -> dict[str, str]:
    return base_env(tmp_path, system, sandbox, key_prefix, url, "review-e", ["events:write", "merge:request"], script)


async def test_a_diff_over_300_kib_is_reviewed_with_no_tools_and_approved(
        tmp_path, system, sandbox, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    big = "".join(f"value_{n} = {n!r:>60}\n" for n in range(4500))
    assert len(big.encode()) > 300 * 1024
    number, sha = await open_and_assign(sandbox, redis, names, {"big.py": big})
    url = await agent_url(redis, redis_url, names, "review-e")

    await run_agent("review-e", env=env_for(tmp_path, system, sandbox, key_prefix, url, approving(tmp_path)))

    assert [(state, commit) for state, commit, _ in await reviews_of(sandbox, number)] == [("APPROVED", sha)]
    session = await session_line(redis, names)
    assert session is not None, "no session line in the run's log"
    assert session["prompt_bytes"] > 300 * 1024, "the whole diff reached the provider, through stdin"
    assert session["tools"] is False, "review-e's provider must run with no tools"


async def test_files_without_a_patch_are_named_and_never_approved_unseen(
        tmp_path, system, sandbox, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    logo = {"base64": base64.b64encode(b"\x89PNG\r\n\x1a\n\0\0binary").decode()}
    number, sha = await open_and_assign(sandbox, redis, names, {"logo.png": logo, "a.py": "x = 1\n"})
    url = await agent_url(redis, redis_url, names, "review-e")

    await run_agent("review-e", env=env_for(tmp_path, system, sandbox, key_prefix, url, approving(tmp_path)))

    [(state, commit, body)] = await reviews_of(sandbox, number)
    assert (state, commit) == ("COMMENTED", sha) and "logo.png" in body and "Not approved" in body

    async def escalated() -> Any:
        return next((e for e in await stream_events(redis, names) if e.type == "ISSUE_ESCALATED"), None)

    event = await eventually(escalated, within_s=30, what="review-e's escalation on rig:events")
    assert "logo.png" in event.data.reason
    assert not [e for e in await stream_events(redis, names) if e.type == "MERGE_REQUESTED"]


async def test_a_head_moved_while_reviewing_gets_no_verdict(tmp_path, system, sandbox, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    number, _ = await open_and_assign(sandbox, redis, names, {"a.py": "x = 1\n"})
    url = await agent_url(redis, redis_url, names, "review-e")
    agent = await start_agent("review-e", env_for(tmp_path, system, sandbox, key_prefix, url,
                                                  approving(tmp_path, wait_s=4.0)))
    try:
        await eventually(lambda: session_line(redis, names), within_s=60, what="the review's provider to start")
        await sandbox.post(f"/repos/{REPO}/commits", {"branch": "feature", "files": {"a.py": "x = 2\n"}})
        output, _ = await asyncio.wait_for(agent.communicate(), 120)
    finally:
        if agent.returncode is None:
            agent.kill()
            await agent.wait()
    assert agent.returncode == 0, output.decode()
    assert await reviews_of(sandbox, number) == []
    assert not [e for e in await stream_events(redis, names) if e.type == "MERGE_REQUESTED"]
