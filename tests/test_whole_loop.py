"""The whole loop (issue 8): every service as a process under the supervisor, the sandbox as GitHub (with its
delivery chaos on, and off), dev-e and review-e woken by the supervisor and driving the real Claude Code CLI
against a scripted Messages API. Label → PR → changes requested → resumed fix → approval → green check →
merged → ISSUE_DONE; the event store then holds every fact and decision of the chain, in order, once per key."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from loop_support import CHAOS, Servers, conductor_with_agents, label, stored_events, until_done
from system_support import admin_token, get_json, rig

from rig_supervisor.harness import System
from rig_testing.model_script import Say, Shell, Step, Tokens
from rig_testing.waiting import eventually

pytestmark = pytest.mark.slow

REPO = "acme/loop"
FILES = {"README.md": "# loop\n", ".rig-agent.yaml": "stack: python\ntestCommand: grep -q dev-e hello.txt\n"}
AGENTS = ("dev-e-python", "review-e")
FIX_MARKER = "addressed the review"
DEV_NEW: list[Step] = [Shell("printf 'hello from dev-e\\n' > hello.txt", Tokens(input=1500, output=60, cache_read=2000,
                                                                              cache_write=700)),
                       Say("Added hello.txt.", Tokens(input=200, output=20, cache_read=3500, cache_write=100))]
DEV_FIX: list[Step] = [Shell(f"printf '{FIX_MARKER}\\n' >> hello.txt", Tokens(input=400, output=30, cache_read=5000)),
                       Say("Added the second line.", Tokens(input=100, output=15, cache_read=5500))]
CHANGES = {"verdict": "request_changes", "summary": "hello.txt needs a second line.", "comments": []}
APPROVAL = {"verdict": "approve", "summary": "Both lines are there.", "comments": []}
SCRIPTS: list[tuple[str, list[Step]]] = [
    (FIX_MARKER, [Say(f"```json\n{json.dumps(APPROVAL)}\n```")]),  # the second round's diff holds the fix
    ("You are reviewing pull request", [Say(f"Not yet.\n```json\n{json.dumps(CHANGES)}\n```")]),
    ("asked for changes", DEV_FIX),
]
FACTS_AND_DECISIONS = {"ISSUE_APPROVED", "ISSUE_ASSIGNED", "PR_CREATED", "REVIEW_ASSIGNED", "REVIEW_DISPUTED",
                       "PR_UPDATED", "REVIEW_PASSED", "MERGE_REQUESTED", "CHECKS_COMPLETED", "MERGED", "ISSUE_DONE",
                       "ISSUE_CLOSED", "MERGE_BLOCKED", "ISSUE_ESCALATED", "ISSUE_CANCELLED", "ISSUE_BLOCKED"}
CALM = {"RIG_SANDBOX_CHAOS_LATE": "0", "RIG_SANDBOX_CHAOS_REORDER": "0", "RIG_SANDBOX_CHAOS_DUPLICATE": "0",
        "RIG_SANDBOX_CHAOS_DROP": "0"}
SONNET = {"input": Decimal(3), "output": Decimal(15), "cache_write": Decimal("3.75"), "cache_read": Decimal("0.30")}


def usage_of(script: list[Step]) -> dict[str, int]:
    """What the CLI's result line adds up for one run of `script`: every reply's tokens."""
    totals = Counter[str]()
    for step in script:
        totals.update({"input_tokens": step.tokens.input, "output_tokens": step.tokens.output,
                       "cache_read_tokens": step.tokens.cache_read, "cache_write_tokens": step.tokens.cache_write})
    return dict(totals)


def sonnet_cost(usage: dict[str, int]) -> Decimal:
    return (usage["input_tokens"] * SONNET["input"] + usage["output_tokens"] * SONNET["output"]
            + usage["cache_write_tokens"] * SONNET["cache_write"]
            + usage["cache_read_tokens"] * SONNET["cache_read"]) / 1_000_000


async def costs_api(system: System, path: str, **params: str) -> dict[str, Any]:
    """A read of the costs service, through the edge."""
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return await get_json(f"{system.url('edge')}{path}?{query}", admin_token())


async def check_costs(system: System, servers: Servers, folder: Path, subject: str) -> None:
    """Every run of the item is in GET /api/runs with its steps (the dev runs with their output lines); the item's
    total is the sum of its runs' RUN_FINISHED costs; `rig replay --service costs` from scratch gives the same
    roll-ups."""
    finished: dict[str, Decimal] = {}

    async def all_runs_listed() -> bool:
        log = [e for e in await stored_events(system) if e["subject"] == subject]
        started = {e["data"]["run_id"] for e in log if e["type"] == "RUN_STARTED"}
        finished.clear()
        finished.update({e["data"]["run_id"]: Decimal(str(e["data"]["cost_usd"])) for e in log
                         if e["type"] == "RUN_FINISHED"})
        listed = (await costs_api(system, "/api/runs", issue=subject, limit="100"))["runs"]
        return started == set(finished) and {r["run_id"] for r in listed if r["status"] != "running"} == started
    await eventually(all_runs_listed, within_s=60, what="every run of the item in GET /api/runs", every_s=0.5)
    assert len(finished) >= 4, "two dev runs and two reviews at least"
    for run_id in finished:
        run = await costs_api(system, f"/api/runs/{run_id}")
        assert run["steps"] and "provider" in {s["step"] for s in run["steps"]}, run
        assert run["priced"] and run["price_source"].startswith("genai-prices"), run

    async def lines_stored() -> bool:  # runlogs is read apart from rig:events: its lines may come a little later
        runs = [await costs_api(system, f"/api/runs/{run_id}") for run_id in finished]
        return all(r["lines"] for r in runs if r["agent"] == "dev-e-python")
    await eventually(lines_stored, within_s=30, what="the dev runs' output lines in GET /api/runs/{id}", every_s=0.5)
    total = (await costs_api(system, "/api/costs", group_by="issue", issue=subject))["total"]
    cent = Decimal("0.01")
    assert Decimal(total["cost_usd"]).quantize(cent) == sum(finished.values(), Decimal(0)).quantize(cent)
    assert total["runs"] == len(finished)

    groups = ("agent", "issue", "repo", "model", "step", "day")
    before = {g: await costs_api(system, "/api/costs", group_by=g) for g in groups}
    replayed = await asyncio.to_thread(
        rig, "replay", "--service", "costs", system=system, database_url=servers.database_url,
        redis_url=servers.redis_url, key_prefix=servers.key_prefix, schema_suffix=servers.schema_suffix,
        folder=folder)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert {g: await costs_api(system, "/api/costs", group_by=g) for g in groups} == before


@pytest.mark.timeout(300)  # under 30 s alone; a loaded CI machine once needed more than the default 120
@pytest.mark.parametrize("chaos", [CALM, CHAOS], ids=["calm", "chaos"])
async def test_label_to_merge_with_two_review_rounds(tmp_path, chaos, coding_clis, fake_anthropic, database_url,
                                                     redis_url, key_prefix, schema_suffix, redis):
    fake_anthropic.script = DEV_NEW
    fake_anthropic.by_prompt = SCRIPTS
    claude = {"RIG_AGENT_PROVIDER": "claude", "RIG_AGENT_EXECUTABLE": str(coding_clis.claude),
              "RIG_AGENT_MODEL": "claude-sonnet-4-5", "RIG_AGENT_PROVIDER_BASE_URL": fake_anthropic.url,
              "ANTHROPIC_API_KEY": "sk-test-whole-loop", "RIG_AGENT_SKIP_PERMISSIONS": "true"}
    servers = Servers(database_url, redis_url, key_prefix, schema_suffix, redis)
    async with conductor_with_agents(tmp_path, servers, agents=AGENTS, agent_env=claude, chaos=chaos,
                                     repos={REPO: FILES}) as (system, sandbox):
        number = await label(sandbox, REPO, "Say hello")
        await until_done(sandbox, system, REPO, number)
        log = await stored_events(system)
        await check_costs(system, servers, tmp_path, f"{REPO}#{number}")
        async with sandbox.roles() as gh:
            main = await gh.conductor.get_file(REPO, "hello.txt")

    assert main is not None and main.text == f"hello from dev-e\n{FIX_MARKER}\n"
    chain = [e for e in log if e["subject"] == f"{REPO}#{number}" and e["type"] in FACTS_AND_DECISIONS]
    keys = Counter(e["key"] for e in chain)
    assert [k for k, n in keys.items() if n > 1] == []
    order = [e["type"] for e in chain]
    # Each step caused by the one before, so in this order whatever the delivery chaos. MERGE_REQUESTED is review-e's
    # call, made as it submits the approval: a late REVIEW_PASSED webhook may arrive after it.
    expected = ["ISSUE_APPROVED", "ISSUE_ASSIGNED", "PR_CREATED", "REVIEW_ASSIGNED", "REVIEW_DISPUTED",
                "ISSUE_ASSIGNED", "PR_UPDATED", "REVIEW_ASSIGNED", "REVIEW_PASSED", "MERGED", "ISSUE_DONE"]
    position = 0
    for kind in order:
        if position < len(expected) and kind == expected[position]:
            position += 1
    assert position == len(expected), order
    assert order.index("REVIEW_DISPUTED") < order.index("MERGE_REQUESTED") < order.index("MERGED")
    assert order.index("CHECKS_COMPLETED") < order.index("MERGED")  # merged only once CI was green
    fix_prompts = [r["messages"] for r in fake_anthropic.requests
                   if "asked for changes" in json.dumps(r["messages"][-1]) and len(r["messages"]) > 1]
    assert fix_prompts, "dev-e resumed its session: the fix prompt came after the first run's conversation"
    assert "hello from dev-e" in json.dumps(fix_prompts[0][:-1])

    runs = [e["data"] for e in log if e["type"] == "RUN_FINISHED" and e["source"] == "agent:dev-e-python"]
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
    for run, script in zip(runs, (DEV_NEW, DEV_FIX), strict=True):  # the resumed run billed for its own part
        assert run["usage"] == usage_of(script)
        assert Decimal(str(run["cost_usd"])) == pytest.approx(sonnet_cost(usage_of(script)), abs=Decimal("1e-6"))
        assert Decimal(str(run["provider_cost_usd"])) == pytest.approx(Decimal(str(run["cost_usd"])),
                                                                       abs=Decimal("1e-6"))
    reviews = [e["data"]["status"] for e in log if e["type"] == "RUN_FINISHED" and e["source"] == "agent:review-e"]
    assert reviews.count("succeeded") >= 2
    # Review-E's Claude Code was offered no tool at all (issue 12); Dev-E's kept its tools.
    reviewing = [r for r in fake_anthropic.requests if "You are reviewing pull request" in json.dumps(r["messages"][0])]
    assert reviewing and not any(r.get("tools") for r in reviewing)
    assert any(r.get("tools") for r in fake_anthropic.requests if r not in reviewing)
