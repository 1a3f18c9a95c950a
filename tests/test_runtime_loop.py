"""The whole loop with agents that speak only the public agent runtime's wire format (issue 14, docs/design.md
section 9): `programs/runtime_agent.py` as dev-e and review-e, woken by the supervisor, calling token-less from a
trusted network, with the sandbox's delivery chaos on. Label → PR → changes requested → fix → approval and an
immediate `{repo, prNumber}` merge request → green check → merged → ISSUE_DONE."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from loop_support import CHAOS, Servers, conductor_with_agents, label, stored_events, until_done
from system_support import rig

from rig_contracts import Names
from rig_supervisor.harness import System
from rig_testing.waiting import eventually

pytestmark = pytest.mark.slow

REPO = "acme/runtime"
FILES = {"README.md": "# runtime\n", ".rig-agent.yaml": "stack: python\ntestCommand: grep -q runtime hello.txt\n"}
AGENTS = ("dev-e-python", "review-e")
PROGRAM = Path(__file__).parent / "programs" / "runtime_agent.py"
RUNTIME = "127.0.0.2"
"""The runtime's own loopback address, the one trusted network (development only)."""
HOSTNAME = "runtime-pod-7f9c2"
ASKED = "fixed after review"


async def rig_status_unclean(system: System, servers: Servers, folder: Path) -> str:
    """What keeps `rig status` from being clean ("" when it is): every service this system runs is up (the test
    topology also names services it does not run), no dead letters, and no group of the event stream has anything
    pending or lagging."""
    shown = await asyncio.to_thread(rig, "status", "--json", system=system, database_url=servers.database_url,
                                    redis_url=servers.redis_url, key_prefix=servers.key_prefix,
                                    schema_suffix=servers.schema_suffix, folder=folder)
    status = json.loads(shown.stdout)
    down = [s for s in status["services"] if s["name"] in system.plan.ports and not s["up"]]
    valkey = status["valkey"]
    busy = [g for g in valkey.get("groups", ()) if g["pending"] or g["lag"]]
    if down or busy or valkey.get("dead_letters") != 0:
        return f"down {down}, groups {busy}, Valkey {valkey.get('error')}, dead letters {valkey.get('dead_letters')}"
    return ""


@pytest.mark.timeout(300)
async def test_runtime_format_agents_take_an_issue_through_a_dispute_to_done(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    prompts = tmp_path / "prompts.jsonl"
    env = {"RIG_ENVIRONMENT": "development", "RIG_TRUSTED_NETWORKS": f'["{RUNTIME}/32"]',
           "RIG_TEST_RUNTIME_ADDRESS": RUNTIME, "RIG_TEST_PROMPT_LOG": str(prompts), "HOSTNAME": HOSTNAME,
           "RIG_ROUTER_START_LEASE_S": "2", "RIG_ROUTER_LEASE_SWEEP_S": "0.5"}
    servers = Servers(database_url, redis_url, key_prefix, schema_suffix, redis)
    async with conductor_with_agents(tmp_path, servers, agents=AGENTS, agent_env=env, chaos=CHAOS,
                                     repos={REPO: FILES}, agent_command=(sys.executable, str(PROGRAM), "--agent",
                                                                         "{agent}"), tokens=False) as (system, sandbox):
        number = await label(sandbox, REPO, "Say hello")
        await until_done(sandbox, system, REPO, number)
        names = Names(key_prefix)

        unsettled: list[str] = []

        async def settled() -> bool:
            wakes = [await redis.llen(names.signal(agent)) for agent in AGENTS]
            unsettled[:] = [f"wake entries {wakes}"] if any(wakes) else []
            unsettled.extend(filter(None, [await rig_status_unclean(system, servers, tmp_path)]))
            return not unsettled

        try:
            await eventually(settled, within_s=60, what="no wake entry left and `rig status` clean", every_s=1.0)
        except AssertionError as stalled:
            raise AssertionError(f"{stalled}: {unsettled}") from stalled
        log = await stored_events(system)
        async with sandbox.roles() as gh:
            main = await gh.conductor.get_file(REPO, "hello.txt")

    subject = f"{REPO}#{number}"
    assert main is not None and main.text == f"hello from the runtime\n{ASKED}\n"
    order = [e["type"] for e in log if e["subject"] == subject]
    assert order.index("REVIEW_DISPUTED") < order.index("REVIEW_PASSED") < order.index("MERGED") < order.index(
        "ISSUE_DONE")
    assert "WORK_STARTED" not in order, "the runtime never sends it; its runs and its stream show it took the work"
    # Its heartbeats, as the instance `{agent}/{last 5 of HOSTNAME}`, on record for both pools.
    beats = {(e["data"]["agent"], e["data"]["instance"]) for e in log if e["type"] == "AGENT_HEARTBEAT"}
    assert {("dev-e-python", HOSTNAME[-5:]), ("review-e", HOSTNAME[-5:])} <= beats
    # Its output lines about the item counted as progress too (one heartbeat per agent, item and minute).
    assert any(e["key"].startswith("output:dev-e-python:") and e["subject"] == subject for e in log)
    # The merge was asked for by {repo, prNumber}, token-less: by the trusted network, which is all the merger knows
    # of the caller. The review runs, opened under the PR's number, belong to the item.
    assert [e["data"]["requested_by"] for e in log if e["type"] == "MERGE_REQUESTED"] == [f"network:{RUNTIME}"]
    review_runs = [e for e in log if e["type"] == "RUN_STARTED" and e["source"] == "agent:review-e"]
    assert len(review_runs) >= 2 and {e["subject"] for e in review_runs} == {subject}
    # The fix round's prompt: the issue text, the review's text after it, the learning the first run wrote.
    dev_prompts = [json.loads(line) for line in prompts.read_text().splitlines() if json.loads(line)["agent"]
                   == "dev-e-python"]
    assert len(dev_prompts) == 2, dev_prompts
    first, fix = dev_prompts
    assert f"needs the line `{ASKED}`" not in first["prompt"] and first["resumed"] is None
    assert f"needs the line `{ASKED}`" in fix["prompt"] and fix["resumed"], fix
    assert "test-command: grep -q runtime hello.txt" in fix["prompt"], "learnings read back in the runtime's shape"
