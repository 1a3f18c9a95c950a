"""Dev-E as a real process (`python -m rig_agent`, the scripted provider) against the sandbox and a real ingest:
whatever branch an assignment names, it never pushes to the default branch. First work ignores the named branch
and opens its own `agent/<N>-…` PR; a fix that names the default branch (or another issue's branch) escalates
with the reason and pushes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from agent_support import (
    REPO,
    agent_url,
    assign_issue,
    base_env,
    dev_transcript,
    ingest_for_agents,
    run_agent,
    stream_events,
)
from github_sandbox_support import Sandbox, sandbox_with_app
from system_support import eventually

from rig_contracts import Names

pytestmark = pytest.mark.slow

AGENT = "dev-e-python"


@pytest.fixture
async def system(tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    async with ingest_for_agents(tmp_path, database_url, redis_url, key_prefix, schema_suffix) as running:
        yield running


@pytest.fixture
async def sandbox(tmp_path):
    async with sandbox_with_app(tmp_path / "sandbox") as started:
        yield started


async def assign(sandbox: Sandbox, redis: Any, names: Names, reason: str, branch: str) -> int:
    """An open issue assigned to dev-e-python with `reason` and `branch`, as a (misled) router would; its number."""
    return await assign_issue(sandbox, redis, names, reason=reason, branch=branch, feedback="Do it on main.")


async def run_dev_e(tmp_path: Path, system: Any, sandbox: Sandbox, redis: Any, redis_url: str,
                    key_prefix: str) -> None:
    """One dev-e-python process until it exits idle."""
    url = await agent_url(redis, redis_url, Names(key_prefix), AGENT)
    await run_agent(AGENT, env=base_env(tmp_path, system, sandbox, key_prefix, url, AGENT, ["events:write"],
                                        dev_transcript(tmp_path)))


async def state(sandbox: Sandbox) -> tuple[str, list[str]]:
    """The default branch's tip and the open PRs' head branches."""
    async with sandbox.roles() as gh:
        return await gh.conductor.run(lambda g: (g.get_repo(REPO).get_branch("main").commit.sha,
                                                 [p.head.ref for p in g.get_repo(REPO).get_pulls(state="open")]))


async def escalations(redis: Any, names: Names) -> list[Any]:
    return [e for e in await stream_events(redis, names) if e.type == "ISSUE_ESCALATED"]


@pytest.mark.parametrize("branch", ["main", "agent/99-another-issue"])
async def test_a_fix_on_a_branch_not_its_own_escalates_and_pushes_nothing(
        tmp_path, system, sandbox, redis, redis_url, key_prefix, branch):
    names = Names(key_prefix)
    before = await state(sandbox)
    number = await assign(sandbox, redis, names, "changes requested", branch)
    await run_dev_e(tmp_path, system, sandbox, redis, redis_url, key_prefix)

    await eventually(lambda: _any(escalations(redis, names)), within_s=30, what="ISSUE_ESCALATED on rig:events")
    [escalation] = await escalations(redis, names)
    assert escalation.subject == f"{REPO}#{number}" and repr(branch) in escalation.data.reason
    assert "nothing was pushed" in escalation.data.reason
    assert await state(sandbox) == before


async def test_first_work_ignores_a_named_branch_and_opens_its_own_pr(
        tmp_path, system, sandbox, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    main, _ = await state(sandbox)
    number = await assign(sandbox, redis, names, "new", "main")
    await run_dev_e(tmp_path, system, sandbox, redis, redis_url, key_prefix)

    assert await state(sandbox) == (main, [f"agent/{number}-say-hello"])
    assert await escalations(redis, names) == []


async def _any(found: Any) -> bool:
    return bool(await found)
