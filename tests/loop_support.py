"""Helpers of the end-to-end tests (a plain module): every service and the edge under the supervisor, the sandbox
as GitHub delivering through the edge, agents woken on demand with their own tokens and Valkey users."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from github_sandbox_support import CHAOS_SEED, SECRET, Sandbox, sandbox_process
from system_support import KEYS, admin_token, build, whole_log

from rig_contracts import Names
from rig_supervisor.harness import System
from rig_supervisor.local import agent_identity, sandbox_credentials
from rig_testing.waiting import eventually

SERVICES = ["ingest", "router", "merger", "eventstore", "costs", "edge"]
QUICK = {"RIG_INGEST_WEBHOOK_SECRETS": json.dumps([SECRET]), "RIG_INGEST_SWEEP_INTERVAL_S": "1",
         "RIG_INGEST_SWEEP_RETRY_AFTER_S": "3", "RIG_MERGER_UNKNOWN_FIRST_S": "0.2", "RIG_AGENT_IDLE_EXIT_S": "3",
         "RIG_AGENT_BLOCK_S": "0.2", "RIG_AGENT_HEARTBEAT_S": "2"}
"""Short waits for a test: sweeps every second, agents that exit after 3 idle seconds."""
CHAOS = {"RIG_SANDBOX_CHAOS_SEED": str(CHAOS_SEED), "RIG_SANDBOX_MERGEABLE_UNKNOWN_MAX_S": "1"}
"""The sandbox's delivery chaos: late, reordered, duplicated and dropped webhooks; `mergeable_state` unknown."""


@dataclass(frozen=True)
class Servers:
    """The test's PostgreSQL and Valkey, with its own schema suffix and key prefix."""

    database_url: str
    redis_url: str
    key_prefix: str
    schema_suffix: str
    redis: Any


@contextlib.asynccontextmanager
async def conductor_with_agents(tmp_path: Path, servers: Servers, *, agents: Sequence[str],
                                agent_env: Mapping[str, str], chaos: Mapping[str, str],
                                repos: Mapping[str, Mapping[str, str]],
                                agent_command: Sequence[str] = ("python", "-m", "rig_agent", "--agent", "{agent}"),
                                tokens: bool = True) -> AsyncIterator[tuple[System, Sandbox]]:
    """The sandbox (with `repos`: name -> files) as a process, then every service and the edge, agents on demand.

    Without `tokens` the agents get their Valkey users and the conductor's URL but no token (the public runtime's
    way: a trusted network, which `agent_env` then names to the services).
    """
    system = build(SERVICES, database_url=servers.database_url, redis_url=servers.redis_url,
                   key_prefix=servers.key_prefix, schema_suffix=servers.schema_suffix, folder=tmp_path, agents=agents,
                   agent_command=agent_command)
    hook = f"{system.url('edge')}/webhooks/github"
    async with sandbox_process(tmp_path / "sandbox", None, RIG_SANDBOX_WEBHOOK_URL=hook, **chaos) as sandbox:
        for full_name, files in repos.items():
            owner, name = full_name.split("/")
            await sandbox.post("/repos", {"owner": owner, "name": name, "files": dict(files)})
        system.plan.env |= await sandbox_credentials(sandbox.url) | QUICK | {"HOME": str(tmp_path / "home")} | dict(
            agent_env)
        names = Names(servers.key_prefix)
        identities = {agent: await agent_identity(servers.redis, names, servers.redis_url, agent, KEYS[0],
                                                  system.url("edge")) for agent in agents}
        system.plan.agent_env = {agent: {k: v for k, v in identity.items() if tokens or k != "RIG_AGENT_TOKEN"}
                                 for agent, identity in identities.items()}
        async with system:
            yield system, sandbox


async def stored_events(system: System) -> list[dict[str, Any]]:
    """Every event in the event store, in the order it arrived."""
    return [entry["event"] for entry in await whole_log(system.url("eventstore"), admin_token())]


async def label(sandbox: Sandbox, repo: str, title: str) -> int:
    """Open an issue and label it `agent-ready`, as a maintainer; its number."""
    number = int((await sandbox.post(f"/repos/{repo}/issues", {"title": title}))["number"])
    answer = await sandbox.control.post(f"/_sandbox/repos/{repo}/issues/{number}/labels",
                                        json={"labels": ["agent-ready"]})
    assert answer.status_code == 200, answer.text
    return number


async def keep_checks_pending_until_approved(sandbox: Sandbox, system: System, repo: str, number: int) -> None:
    """CI as a test stands it in: `ci` in progress on every head of the PR, green once its head is approved."""
    seen: set[str] = set()
    async with sandbox.roles() as gh:
        while True:
            pulls = await gh.conductor.run(lambda g: [(p.number, p.head.sha) for p in
                                                      g.get_repo(repo).get_pulls(state="all")])
            for _pr, sha in pulls:
                if sha not in seen:
                    seen.add(sha)
                    await sandbox.post(f"/repos/{repo}/check-runs", {"ref": sha, "name": "ci", "status": "in_progress"})
            for event in await stored_events(system):
                if event["type"] == "REVIEW_PASSED" and event["subject"] == f"{repo}#{number}":
                    sha = event["data"]["commit_id"]
                    await sandbox.post(f"/repos/{repo}/check-runs", {"ref": sha, "name": "ci", "conclusion": "success"})
                    return
            await asyncio.sleep(0.5)


async def until_done(sandbox: Sandbox, system: System, repo: str, number: int, within_s: float = 240) -> None:
    """Wait for ISSUE_DONE while CI is stood in (`keep_checks_pending_until_approved`); say where a stall stopped."""
    ci = asyncio.create_task(keep_checks_pending_until_approved(sandbox, system, repo, number))

    async def done() -> bool:
        return any(e["type"] == "ISSUE_DONE" for e in await stored_events(system))

    try:
        await eventually(done, within_s=within_s, what="ISSUE_DONE in the event store", every_s=1.0)
    except AssertionError as stalled:
        seen = [(e["type"], e["source"]) for e in await stored_events(system) if e["type"] != "AGENT_HEARTBEAT"]
        raise AssertionError(f"{stalled}; the store holds {seen}") from stalled
    finally:
        ci.cancel()
