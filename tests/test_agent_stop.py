"""Stopping agents (real processes): SIGTERM stops an agent within seconds whatever it is doing, its workload
(the provider's process group, a repository command's) with it; a supervisor killed with SIGKILL leaves no agent
running. Before, SIGTERM only asked the loop to stop after the current assignment, and agents woken by a killed
supervisor (or test run) ran on for good in their own sessions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest
from agent_support import assign_issue, dev_transcript, ingest_for_agents, start_agent
from github_sandbox_support import Sandbox, sandbox_with_app
from system_support import KEYS, ROOT, eventually

from rig_contracts import Names
from rig_supervisor.local import agent_identity
from rig_supervisor.process import dying_with_this_process

pytestmark = pytest.mark.slow

AGENT = "dev-e-python"
STOPPED_WITHIN_S = 8.0
"""The agent's own stop budget (rig_agent.__main__.STOP_BUDGET_S); a clean stop (status 0) comes well before it."""


@pytest.fixture
async def ingest(tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    async with ingest_for_agents(tmp_path, database_url, redis_url, key_prefix, schema_suffix) as running:
        yield running


@pytest.fixture
async def sandbox(tmp_path):
    async with sandbox_with_app(tmp_path / "sandbox") as started:
        yield started


@contextlib.asynccontextmanager
async def killed_afterwards(process: asyncio.subprocess.Process):
    """Whatever the test's outcome, nothing of `process` is left running."""
    try:
        yield process
    finally:
        if process.returncode is None:
            kill(descendants(process.pid))  # workloads run in sessions of their own
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


def descendants(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.NoSuchProcess):
        return list(psutil.Process(pid).children(recursive=True))
    return []


def kill(processes: list[psutil.Process]) -> None:
    """Not to outlive the test, whatever it says: what was left behind goes now."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def running_marker(pid: int, marker: str) -> bool:
    for child in descendants(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            if marker in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                return True
    return False


@pytest.mark.parametrize(("busy_in", "wait_s", "test_command", "marker"), [
    ("the provider", 600, "true", "rig_providers.scripted"),
    ("a repository command", 0, "sleep 601 & sleep 602; wait", "sleep 602"),
], ids=["provider", "command"])
async def test_sigterm_stops_a_busy_agent_and_its_workload_within_seconds(
        tmp_path, ingest, sandbox: Sandbox, redis, redis_url, key_prefix, busy_in, wait_s, test_command, marker):
    names = Names(key_prefix)
    await assign_issue(sandbox, redis, names, testCommand=test_command)
    script = dev_transcript(tmp_path, wait_s)
    identity = await agent_identity(redis, names, redis_url, AGENT, KEYS[0], ingest.url("ingest"))
    env = identity | {"RIG_REDIS_URL": identity["RIG_AGENT_REDIS_URL"], "RIG_KEY_PREFIX": key_prefix,
                      "RIG_DATA_DIR": str(tmp_path / "agent"), "RIG_AGENT_PROVIDER": "scripted",
                      "RIG_AGENT_TRANSCRIPT": str(script), "RIG_AGENT_BLOCK_S": "0.2", **sandbox.env()}
    log = tmp_path / "agent.log"
    with log.open("ab") as out:
        started = await start_agent(AGENT, env, stdout=out)
    async with killed_afterwards(started) as agent:
        await eventually(lambda: _true(running_marker(agent.pid, marker)), within_s=60,
                         what=f"the agent to be busy in {busy_in}")
        workload = descendants(agent.pid)

        agent.send_signal(signal.SIGTERM)  # to the agent alone: it must take its workload down itself
        async with asyncio.timeout(STOPPED_WITHIN_S):
            await agent.wait()

        assert agent.returncode == 0, log.read_text()
        _gone, alive = await asyncio.to_thread(psutil.wait_procs, workload, 2.0)
        kill(alive)
        assert [p.pid for p in alive] == [], f"left running after the agent stopped: {alive}"
    assert "stopping: the current assignment is left for another try" in log.read_text()
    assert (await redis.xpending(names.assignments(AGENT), "agents"))["pending"] == 1  # for another try


async def _true(value: bool) -> bool:
    return value


async def test_a_supervisor_killed_with_sigkill_leaves_no_agent_behind(tmp_path, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    reviewer = "review-e"  # the one pool that may use a plain token: no App is needed for an agent that only waits
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")} | {
        "RIG_REDIS_URL": redis_url, "RIG_KEY_PREFIX": key_prefix, "RIG_DATA_DIR": str(tmp_path / "agents"),
        "RIG_AGENT_IDLE_EXIT_S": "600", "RIG_AGENT_BLOCK_S": "0.2", "RIG_AGENT_CONDUCTOR_URL": "http://127.0.0.1:9",
        "RIG_AGENT_PROVIDER": "scripted", "RIG_GITHUB_API_URL": "http://127.0.0.1:9",
        "RIG_GITHUB_REVIEW_TOKEN": "unused"}
    log = tmp_path / "supervisor.log"
    with log.open("ab") as out:
        supervisor = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).parent / "programs" / "supervise_agents.py"), reviewer, cwd=ROOT,
            env=env, stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            preexec_fn=dying_with_this_process())
    async with killed_afterwards(supervisor):
        await redis.lpush(names.signal(reviewer), "1")

        async def agent_started() -> bool:  # its stream group exists once it has joined (signal handlers set)
            return running_marker(supervisor.pid, "rig_agent") and bool(await redis.exists(names.assignments(reviewer)))

        await eventually(agent_started, within_s=60, what="the supervisor to wake an agent")
        agents = [p for p in descendants(supervisor.pid) if "rig_agent" in " ".join(p.cmdline())]

        supervisor.kill()
        await supervisor.wait()

        _gone, alive = await asyncio.to_thread(psutil.wait_procs, agents, STOPPED_WITHIN_S)
        kill(alive)
        assert [p.pid for p in alive] == [], log.read_text()
