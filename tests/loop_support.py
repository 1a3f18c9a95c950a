"""Helpers of the end-to-end tests (a plain module): every service and the edge under the supervisor, the sandbox
as GitHub delivering through the edge, agents woken on demand with their own tokens and Valkey users."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from github_sandbox_support import SECRET, Sandbox, sandbox_process
from system_support import KEYS, admin_token, build, whole_log

from rig_contracts import Names
from rig_supervisor.harness import System
from rig_supervisor.local import agent_identity, sandbox_credentials

SERVICES = ["ingest", "router", "merger", "eventstore", "costs", "edge"]
QUICK = {"RIG_INGEST_WEBHOOK_SECRETS": json.dumps([SECRET]), "RIG_INGEST_SWEEP_INTERVAL_S": "1",
         "RIG_INGEST_SWEEP_RETRY_AFTER_S": "3", "RIG_MERGER_UNKNOWN_FIRST_S": "0.2", "RIG_AGENT_IDLE_EXIT_S": "3",
         "RIG_AGENT_BLOCK_S": "0.2", "RIG_AGENT_HEARTBEAT_S": "2"}
"""Short waits for a test: sweeps every second, agents that exit after 3 idle seconds."""


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
                                repos: Mapping[str, Mapping[str, str]]) -> AsyncIterator[tuple[System, Sandbox]]:
    """The sandbox (with `repos`: name -> files) as a process, then every service and the edge, agents on demand."""
    system = build(SERVICES, database_url=servers.database_url, redis_url=servers.redis_url,
                   key_prefix=servers.key_prefix, schema_suffix=servers.schema_suffix, folder=tmp_path, agents=agents,
                   agent_command=["python", "-m", "rig_agent", "--agent", "{agent}"])
    hook = f"{system.url('edge')}/webhooks/github"
    async with sandbox_process(tmp_path / "sandbox", None, RIG_SANDBOX_WEBHOOK_URL=hook, **chaos) as sandbox:
        for full_name, files in repos.items():
            owner, name = full_name.split("/")
            await sandbox.post("/repos", {"owner": owner, "name": name, "files": dict(files)})
        system.plan.env |= await sandbox_credentials(sandbox.url) | QUICK | {"HOME": str(tmp_path / "home")} | dict(
            agent_env)
        names = Names(servers.key_prefix)
        system.plan.agent_env = {agent: await agent_identity(servers.redis, names, servers.redis_url, agent,
                                                             KEYS[0], system.url("edge")) for agent in agents}
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
