"""Dev-E as a real process (`python -m rig_agent`, the scripted provider) against the sandbox and a real ingest:
whatever branch an assignment names, it never pushes to the default branch. First work ignores the named branch
and opens its own `agent/<N>-…` PR; a fix that names the default branch (or another issue's branch) escalates
with the reason and pushes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from github_sandbox_support import Sandbox, sandbox_with_app
from system_support import KEYS, ROOT, build, eventually

from rig_contracts import Names, event_from_json
from rig_contracts.catalogue import IssueAssignedEvent
from rig_contracts.entries import EVENT_FIELD
from rig_contracts.payloads import IssueAssigned
from rig_identity import mint
from rig_supervisor.local import agent_identity

pytestmark = pytest.mark.slow

REPO = "acme/app"
AGENT = "dev-e-python"
PATCH = """diff --git a/hello.txt b/hello.txt
new file mode 100644
--- /dev/null
+++ b/hello.txt
@@ -0,0 +1 @@
+hello from dev-e
"""
SECRET = "dev-e-branches-test-secret"


@pytest.fixture
async def system(tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    env = {"RIG_INGEST_WEBHOOK_SECRETS": json.dumps([SECRET])}
    async with build(["ingest"], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                     schema_suffix=schema_suffix, folder=tmp_path, extra_env=env) as running:
        yield running


@pytest.fixture
async def sandbox(tmp_path):
    async with sandbox_with_app(tmp_path / "sandbox") as started:
        yield started


async def assign(sandbox: Sandbox, redis: Any, names: Names, reason: str, branch: str) -> int:
    """An open issue assigned to dev-e-python with `reason` and `branch`, as a (misled) router would; its number."""
    number = int((await sandbox.post(f"/repos/{REPO}/issues", {"title": "Say hello"}))["number"])
    event = IssueAssignedEvent(source="router", subject=f"{REPO}#{number}", key=f"assigned:{REPO}#{number}:1",
                               data=IssueAssigned(repo=REPO, number=number, agent=AGENT, stack="python",
                                                  assignment_id="a1"))
    await redis.xadd(names.assignments(AGENT), {
        EVENT_FIELD: event.to_json(), "repo": REPO, "issueNumber": str(number), "title": "Say hello",
        "body": "Add hello.txt", "stack": "python", "testCommand": "grep -q dev-e hello.txt", "reason": reason,
        "branch": branch, "feedback": "Do it on main."})
    await redis.lpush(names.signal(AGENT), "1")
    return number


async def run_dev_e(tmp_path: Path, system: Any, sandbox: Sandbox, redis: Any, redis_url: str,
                    key_prefix: str) -> None:
    """One dev-e-python process until it exits idle."""
    script = tmp_path / "dev.jsonl"
    script.write_text("".join(json.dumps(e) + "\n" for e in (
        {"kind": "meta", "model": "claude-sonnet-4-5"}, {"kind": "patch", "diff": PATCH},
        {"kind": "result", "text": "Added hello.txt."})))
    identity = await agent_identity(redis, Names(key_prefix), redis_url, AGENT, KEYS[0], system.url("ingest"))
    url = identity["RIG_AGENT_REDIS_URL"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")} | sandbox.env() | {
        "RIG_REDIS_URL": url, "RIG_AGENT_REDIS_URL": url, "RIG_KEY_PREFIX": key_prefix,
        "RIG_DATA_DIR": str(tmp_path / "agent-data"), "RIG_AGENT_CONDUCTOR_URL": system.url("ingest"),
        "RIG_AGENT_TOKEN": mint(KEYS[0], f"agent:{AGENT}", ["events:write"]), "RIG_AGENT_PROVIDER": "scripted",
        "RIG_AGENT_TRANSCRIPT": str(script), "RIG_AGENT_IDLE_EXIT_S": "1.5", "RIG_AGENT_BLOCK_S": "0.2",
        "RIG_AGENT_BUSY_TTL_S": "1", "RIG_AGENT_HEARTBEAT_S": "0.5"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rig_agent", "--agent", AGENT, cwd=ROOT, env=env, start_new_session=True,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, output.decode()


async def state(sandbox: Sandbox) -> tuple[str, list[str]]:
    """The default branch's tip and the open PRs' head branches."""
    async with sandbox.roles() as gh:
        return await gh.conductor.run(lambda g: (g.get_repo(REPO).get_branch("main").commit.sha,
                                                 [p.head.ref for p in g.get_repo(REPO).get_pulls(state="open")]))


async def escalations(redis: Any, names: Names) -> list[Any]:
    events = [event_from_json(fields[EVENT_FIELD.encode()].decode()) for _, fields in await redis.xrange(names.events)]
    return [e for e in events if e.type == "ISSUE_ESCALATED"]


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
