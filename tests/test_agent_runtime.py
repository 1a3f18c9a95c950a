"""The agent runtime as a real process (`python -m rig_agent`) with the scripted provider, against the sandbox,
a real ingest process, real Valkey (as the pool's ACL user) and PostgreSQL: Dev-E turns an assignment into a PR
that closes its issue, Review-E reviews a head and asks for the merge, both report their runs."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from agent_support import (
    REPO,
    agent_url,
    assign_issue,
    base_env,
    dev_transcript,
    ingest_for_agents,
    open_pulls,
    run_agent,
    start_agent,
    stream_events,
    transcript,
)
from github_sandbox_support import sandbox_with_app
from loop_support import Servers, conductor_with_agents, label
from system_support import KEYS, admin_token, eventually, get_json

from rig_contracts import Names
from rig_contracts.catalogue import ReviewAssignedEvent
from rig_contracts.entries import EVENT_FIELD
from rig_contracts.payloads import ReviewAssigned
from rig_supervisor.local import agent_identity

pytestmark = pytest.mark.slow

CALM = {"RIG_SANDBOX_CHAOS_LATE": "0", "RIG_SANDBOX_CHAOS_REORDER": "0", "RIG_SANDBOX_CHAOS_DUPLICATE": "0",
        "RIG_SANDBOX_CHAOS_DROP": "0"}


@pytest.fixture
async def system(tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    async with ingest_for_agents(tmp_path, database_url, redis_url, key_prefix, schema_suffix) as running:
        yield running


@pytest.fixture
async def sandbox(tmp_path):
    async with sandbox_with_app(tmp_path / "sandbox") as started:
        yield started


async def test_dev_e_turns_an_assignment_into_the_pr_that_closes_its_issue(
        tmp_path, system, sandbox, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    number = await assign_issue(sandbox, redis, names)
    script = dev_transcript(tmp_path)
    url = await agent_url(redis, redis_url, names, "dev-e-python")

    await run_agent("dev-e-python", env=base_env(tmp_path, system, sandbox, key_prefix, url, "dev-e-python",
                                                 ["events:write"], script))

    pulls = await open_pulls(sandbox)
    assert len(pulls) == 1 and pulls[0][1].startswith(f"Closes #{number}")
    assert pulls[0][2].startswith(f"agent/{number}-say-hello")
    async with sandbox.roles() as gh:
        added = await gh.conductor.get_file(REPO, "hello.txt", ref=pulls[0][2])
    assert added is not None and added.text == "hello from dev-e\n"
    assert await redis.xpending(names.assignments("dev-e-python"), "agents") == \
        {"pending": 0, "min": None, "max": None, "consumers": []}
    assert await redis.llen(names.signal("dev-e-python")) == 0

    async def reported() -> bool:  # the last heartbeat is posted as the agent exits, relayed after
        events = await stream_events(redis, names)
        return "RUN_FINISHED" in {e.type for e in events} and any(
            e.type == "AGENT_HEARTBEAT" and e.data.status == "offline" for e in events)

    await eventually(reported, within_s=30, what="RUN_FINISHED and the offline heartbeat on rig:events")
    events = await stream_events(redis, names)
    types = [e.type for e in events if e.subject == f"{REPO}#{number}" and e.type != "AGENT_HEARTBEAT"]
    assert types[:2] == ["WORK_STARTED", "RUN_STARTED"] and types[-1] == "RUN_FINISHED"
    finished = next(e for e in events if e.type == "RUN_FINISHED")
    assert finished.source == "agent:dev-e-python" and finished.data.status == "succeeded"
    assert (finished.data.usage.input_tokens, finished.data.usage.output_tokens,
            finished.data.usage.cache_read_tokens) == (1200, 80, 300)
    assert finished.data.cost_usd is not None and finished.data.cost_usd > 0
    assert finished.data.pr_number == pulls[0][0]
    steps = [e.data.step for e in events if e.type == "RUN_STEP"]
    assert steps == ["clone", "provider", "test", "push", "pull_request"]
    assert await redis.exists(names.busy("dev-e-python")) == 0  # lapsed after the agent exited
    beats = [e.data for e in events if e.type == "AGENT_HEARTBEAT"]
    assert {(b.status, b.current_task) for b in beats} >= {("busy", f"{REPO}#{number}"), ("offline", None)}


async def test_review_e_requests_changes_from_its_verdict_block(tmp_path, system, sandbox, redis, redis_url,
                                                               key_prefix):
    names = Names(key_prefix)
    async with sandbox.roles() as gh:
        await sandbox.post(f"/repos/{REPO}/commits", {"branch": "feature", "files": {"a.py": "x = 1\n"}})
        pull = await gh.dev.open_pull(REPO, head="feature", title="Add a", body="Closes #1")
    sha = pull.head_sha
    event = ReviewAssignedEvent(source="router", subject=f"{REPO}#1", key=f"review:{REPO}#{pull.number}:{sha}",
                                data=ReviewAssigned(repo=REPO, pr_number=pull.number, head_sha=sha, round=1,
                                                    assignment_id="r1"))
    await redis.xadd(names.assignments("review-e"), {EVENT_FIELD: event.to_json(), "repo": REPO,
                                                     "issueNumber": str(pull.number), "title": "Add a"})
    await redis.lpush(names.signal("review-e"), "1")
    verdict = {"verdict": "request_changes", "summary": "a.py needs a test.", "comments": ["add test_a.py"]}
    script = transcript(tmp_path / "review.jsonl", {"kind": "meta", "model": "claude-sonnet-4-5"},
                        {"kind": "turn", "usage": {"input_tokens": 500, "output_tokens": 60}},
                        {"kind": "result", "text": f"Review done.\n```json\n{json.dumps(verdict)}\n```"})
    url = await agent_url(redis, redis_url, names, "review-e")

    await run_agent("review-e", env=base_env(tmp_path, system, sandbox, key_prefix, url, "review-e",
                                             ["events:write", "merge:request"], script))

    async with sandbox.roles() as gh:
        reviews = await gh.conductor.list_reviews(REPO, pull.number)
    assert [(r.state, r.commit_id) for r in reviews] == [("CHANGES_REQUESTED", sha)]
    assert reviews[0].body == "a.py needs a test.\n- add test_a.py"


async def test_a_killed_agents_run_is_finished_by_the_next_process_with_one_pr(
        tmp_path, system, sandbox, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    await assign_issue(sandbox, redis, names)
    url = await agent_url(redis, redis_url, names, "dev-e-python")
    slow = base_env(tmp_path, system, sandbox, key_prefix, url, "dev-e-python", ["events:write"],
                    dev_transcript(tmp_path, wait_s=30))
    first = await start_agent("dev-e-python", slow | {"RIG_AGENT_CONSUMER": "first"})

    async def working() -> bool:
        return bool(await redis.exists(names.busy("dev-e-python")))

    await eventually(working, within_s=30, what="the first agent to take the assignment")
    await asyncio.sleep(1.0)
    os.killpg(first.pid, 9)
    await first.wait()

    async def lapsed() -> bool:
        return not await redis.exists(names.busy("dev-e-python"))

    await eventually(lapsed, within_s=10, what="busy:dev-e-python to lapse after its agent was killed")

    quick = base_env(tmp_path, system, sandbox, key_prefix, url, "dev-e-python", ["events:write"],
                     dev_transcript(tmp_path, wait_s=0)) | {"RIG_AGENT_CONSUMER": "second",
                                                                   "RIG_AGENT_RECLAIM_IDLE_S": "1"}
    log = await run_agent("dev-e-python", env=quick)

    assert "took over assignment" in log
    assert len(await open_pulls(sandbox)) == 1


async def test_a_long_run_is_not_taken_over_while_its_agent_lives(
        tmp_path, system, sandbox, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    await assign_issue(sandbox, redis, names)
    url = await agent_url(redis, redis_url, names, "dev-e-python")
    env = base_env(tmp_path, system, sandbox, key_prefix, url, "dev-e-python", ["events:write"],
                   dev_transcript(tmp_path, wait_s=4)) | {"RIG_AGENT_RECLAIM_IDLE_S": "1"}
    first = await start_agent("dev-e-python", env | {"RIG_AGENT_CONSUMER": "first"})
    second = await start_agent("dev-e-python", env | {"RIG_AGENT_CONSUMER": "second"})
    outputs = await asyncio.wait_for(asyncio.gather(first.communicate(), second.communicate()), 120)
    logs = [out.decode() for out, _ in outputs]

    assert [first.returncode, second.returncode] == [0, 0], logs
    assert sum("took " in log for log in logs) == 1, logs  # one agent ran it for 4 reclaim idle times, alone
    assert not any("took over" in log for log in logs)
    assert len(await open_pulls(sandbox)) == 1


async def test_ibuild_e_pulls_macos_work_from_the_conductor_and_opens_its_pr(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    repo = "acme/ios"
    files = {"README.md": "# ios\n", ".rig-agent.yaml": "stack: ios\ntestCommand: grep -q dev-e hello.txt\n"}
    servers = Servers(database_url, redis_url, key_prefix, schema_suffix, redis)
    async with conductor_with_agents(tmp_path, servers, agents=(), agent_env={}, chaos=CALM,
                                     repos={repo: files}) as (system, sandbox):
        number = await label(sandbox, repo, "Say hello on iOS")
        names = Names(key_prefix)
        identity = await agent_identity(redis, names, redis_url, "ibuild-e", KEYS[0], system.url("edge"))
        env = {"RIG_REDIS_URL": redis_url, "RIG_KEY_PREFIX": key_prefix, "RIG_DATA_DIR": str(tmp_path / "ibuild"),
               "RIG_AGENT_PROVIDER": "scripted", "RIG_AGENT_TRANSCRIPT": str(dev_transcript(tmp_path)),
               "RIG_AGENT_IDLE_EXIT_S": "6", "RIG_AGENT_BLOCK_S": "0.5", **sandbox.env(), **identity}

        log = await run_agent("ibuild-e", env=env)

        pulls = await open_pulls(sandbox, repo)
        assert f"took {repo}#{number}" in log
        assert len(pulls) == 1 and pulls[0][1].startswith(f"Closes #{number}")
        work = await get_json(f"{system.url('edge')}/api/work-items/{repo}/{number}", admin_token())
        assert work["state"] in {"PR_OPEN", "IN_REVIEW"}
        assert await redis.exists(names.assignments("ibuild-e")) == 0  # pulled over HTTP, never streamed


async def test_tests_still_failing_after_the_allowed_attempts_escalate_instead_of_a_broken_pr(
        tmp_path, system, sandbox, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    number = await assign_issue(sandbox, redis, names)
    # The provider changes nothing, so `testCommand` keeps failing.
    script = transcript(tmp_path / "idle.jsonl", {"kind": "meta", "model": "claude-sonnet-4-5"},
                        {"kind": "turn", "usage": {"input_tokens": 10, "output_tokens": 5}},
                        {"kind": "result", "text": "I looked around."})
    url = await agent_url(redis, redis_url, names, "dev-e-python")

    await run_agent("dev-e-python", env=base_env(tmp_path, system, sandbox, key_prefix, url, "dev-e-python",
                                                 ["events:write"], script))

    assert await open_pulls(sandbox) == []

    async def escalated() -> bool:
        return any(e.type == "ISSUE_ESCALATED" for e in await stream_events(redis, names))

    await eventually(escalated, within_s=30, what="ISSUE_ESCALATED on rig:events")
    events = await stream_events(redis, names)
    [escalation] = [e for e in events if e.type == "ISSUE_ESCALATED"]
    assert escalation.subject == f"{REPO}#{number}"
    assert "tests still fail after 2 attempts" in escalation.data.reason and "hello.txt" in escalation.data.reason
    assert [e.data.status for e in events if e.type == "RUN_FINISHED"] == ["escalated"]
    assert (await redis.xpending(names.assignments("dev-e-python"), "agents"))["pending"] == 0
