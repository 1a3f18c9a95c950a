"""Helpers for the tests that run one real agent process (`python -m rig_agent`, the scripted provider) against the
sandbox's `acme/app` and a real ingest process, on real Valkey as the pool's ACL user."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import IO, Any

from github_sandbox_support import Sandbox
from system_support import KEYS, ROOT, build

from rig_contracts import Names, event_from_json
from rig_contracts.catalogue import IssueAssignedEvent
from rig_contracts.entries import EVENT_FIELD
from rig_contracts.payloads import IssueAssigned
from rig_identity import mint
from rig_supervisor.harness import System
from rig_supervisor.local import agent_identity
from rig_supervisor.process import dying_with_this_process

REPO = "acme/app"
WEBHOOK_SECRET = "agent-runtime-test-secret"
PATCH = """diff --git a/hello.txt b/hello.txt
new file mode 100644
--- /dev/null
+++ b/hello.txt
@@ -0,0 +1 @@
+hello from dev-e
"""


def transcript(path: Path, *entries: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


async def agent_url(redis, redis_url: str, names: Names, agent: str) -> str:
    """A Valkey URL logged in as the pool's own ACL user, made as `make run` makes it."""
    identity = await agent_identity(redis, names, redis_url, agent, KEYS[0], "http://127.0.0.1:9")
    return identity["RIG_AGENT_REDIS_URL"]


async def start_agent(agent: str, env: dict[str, str],
                      stdout: IO[bytes] | int = asyncio.subprocess.PIPE) -> asyncio.subprocess.Process:
    """Start one agent process (its own process group, so a kill takes its provider along; it dies with the run)."""
    variables = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")} | env
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rig_agent", "--agent", agent, cwd=ROOT, env=variables,
        stdout=stdout, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        preexec_fn=dying_with_this_process())


async def run_agent(agent: str, *, env: dict[str, str], timeout: float = 120.0) -> str:
    """Run one agent process until it exits idle; its log."""
    process = await start_agent(agent, env)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:  # timed out, or the test was stopped: leave nothing running
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    log = output.decode()
    assert process.returncode == 0, log
    return log


async def stream_events(redis, names: Names) -> list[Any]:
    return [event_from_json(fields[EVENT_FIELD.encode()].decode())
            for _id, fields in await redis.xrange(names.events)]


def ingest_for_agents(tmp_path: Path, database_url: str, redis_url: str, key_prefix: str,
                      schema_suffix: str) -> System:
    """A real ingest process, the one service a lone agent reports to (its webhook secret `WEBHOOK_SECRET`)."""
    env = {"RIG_INGEST_WEBHOOK_SECRETS": json.dumps([WEBHOOK_SECRET])}
    return build(["ingest"], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                 schema_suffix=schema_suffix, folder=tmp_path, extra_env=env)


def base_env(tmp_path: Path, system, sandbox: Sandbox, key_prefix: str, url: str, agent: str,
             scopes: list[str], script: Path) -> dict[str, str]:
    return {"RIG_REDIS_URL": url, "RIG_AGENT_REDIS_URL": url, "RIG_KEY_PREFIX": key_prefix,
            "RIG_DATA_DIR": str(tmp_path / "agent-data"), "RIG_AGENT_CONDUCTOR_URL": system.url("ingest"),
            "RIG_AGENT_TOKEN": mint(KEYS[0], f"agent:{agent}", scopes), "RIG_AGENT_PROVIDER": "scripted",
            "RIG_AGENT_TRANSCRIPT": str(script), "RIG_AGENT_IDLE_EXIT_S": "1.5", "RIG_AGENT_BLOCK_S": "0.2",
            "RIG_AGENT_BUSY_TTL_S": "1", "RIG_AGENT_HEARTBEAT_S": "0.5", **sandbox.env()}


async def assign_issue(sandbox: Sandbox, redis, names: Names, **fields: str) -> int:
    """An open issue, assigned to dev-e-python as the router does it (entry and wake entry); its number.

    `fields` add to or replace the entry's flat fields (`reason`, `branch`, `feedback` …).
    """
    issue = await sandbox.post(f"/repos/{REPO}/issues", {"title": "Say hello", "body": "Add hello.txt"})
    number = issue["number"]
    event = IssueAssignedEvent(source="router", subject=f"{REPO}#{number}", key=f"assigned:{REPO}#{number}:1",
                               data=IssueAssigned(repo=REPO, number=number, agent="dev-e-python", stack="python",
                                                  assignment_id="a1"))
    await redis.xadd(names.assignments("dev-e-python"), {
        EVENT_FIELD: event.to_json(), "repo": REPO, "issueNumber": str(number), "title": "Say hello",
        "body": "Add hello.txt", "stack": "python", "testCommand": "grep -q dev-e hello.txt", **fields})
    await redis.lpush(names.signal("dev-e-python"), "1")
    return number


def dev_transcript(tmp_path: Path, wait_s: float = 0.0) -> Path:
    return transcript(tmp_path / f"dev-{wait_s}.jsonl",
                      {"kind": "meta", "model": "claude-sonnet-4-5"},
                      {"kind": "turn", "text": "Adding hello.txt",
                       "usage": {"input_tokens": 1200, "output_tokens": 80, "cache_read_tokens": 300}},
                      {"kind": "wait", "seconds": wait_s},
                      {"kind": "patch", "diff": PATCH}, {"kind": "result", "text": "Added hello.txt."})


async def open_pulls(sandbox: Sandbox, repo: str = REPO) -> list[tuple[int, str, str]]:
    """(number, body, head branch) of the repository's open PRs."""
    async with sandbox.roles() as gh:
        return await gh.conductor.run(lambda g: [(p.number, p.body, p.head.ref)
                                                 for p in g.get_repo(repo).get_pulls(state="open")])
