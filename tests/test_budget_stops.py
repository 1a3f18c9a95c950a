"""Budgets that stop work (issue 15), with a real Dev-E process (scripted provider) reporting through the edge to
real ingest and costs processes: a run reserves its allowance before it starts; one that spends past it has its
provider stopped, ends `stopped` and hands the item to people saying why; once the issue's budget is spent, the
next run is refused before it starts, and the item's escalation names the budget and the setting to change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_support import REPO, WEBHOOK_SECRET, agent_url, assign_issue, base_env, run_agent, stream_events, transcript
from github_sandbox_support import sandbox_with_app
from system_support import build, eventually

from rig_contracts import Names

pytestmark = pytest.mark.slow

RUN_CAP, ISSUE_CAP = "0.50", "0.75"


def dear_transcript(tmp_path: Path) -> Path:
    """A run whose second turn reads a million tokens ($3 at Sonnet's price), then would work on for a minute."""
    return transcript(tmp_path / "dear.jsonl", {"kind": "meta", "model": "claude-sonnet-4-5"},
                      {"kind": "turn", "text": "Reading", "usage": {"input_tokens": 1000, "output_tokens": 10}},
                      {"kind": "turn", "text": "Reading everything",
                       "usage": {"input_tokens": 1_000_000, "output_tokens": 10}},
                      {"kind": "wait", "seconds": 60}, {"kind": "result", "text": "Done."})


@pytest.fixture
async def sandbox(tmp_path):
    async with sandbox_with_app(tmp_path / "sandbox") as started:
        yield started


async def test_a_run_past_its_allowance_is_stopped_and_a_spent_issue_starts_no_run(
        tmp_path, sandbox, redis, redis_url, database_url, key_prefix, schema_suffix):
    env = {"RIG_INGEST_WEBHOOK_SECRETS": json.dumps([WEBHOOK_SECRET]), "RIG_COSTS_RUN_BUDGET_USD": RUN_CAP,
           "RIG_COSTS_ISSUE_BUDGET_USD": ISSUE_CAP}
    system = build(["ingest", "costs", "edge"], database_url=database_url, redis_url=redis_url,
                   key_prefix=key_prefix, schema_suffix=schema_suffix, folder=tmp_path, extra_env=env)
    names = Names(key_prefix)
    async with system:
        number = await assign_issue(sandbox, redis, names)
        url = await agent_url(redis, redis_url, names, "dev-e-python")
        agent_env = base_env(tmp_path, system, sandbox, key_prefix, url, "dev-e-python",
                             ["events:write", "runs:write"], dear_transcript(tmp_path))
        agent_env["RIG_AGENT_CONDUCTOR_URL"] = system.url("edge")
        await run_agent("dev-e-python", env=agent_env)

        async def spent() -> bool:  # the stopped run's cost projected: the issue's budget is gone
            return any(e.type == "BUDGET_EXCEEDED" for e in await stream_events(redis, names))

        await eventually(spent, within_s=30, what="BUDGET_EXCEEDED for the issue")
        # The item assigned again (a person approved it anew): the next run is refused before it starts.
        [(_id, first)] = await redis.xrange(names.assignments("dev-e-python"))
        await redis.xadd(names.assignments("dev-e-python"), {**{k.decode(): v.decode() for k, v in first.items()},
                                                              "reason": "retry"})
        await redis.lpush(names.signal("dev-e-python"), "again")
        await run_agent("dev-e-python", env=agent_env)

        async def refused() -> bool:
            return len([e for e in await stream_events(redis, names) if e.type == "ISSUE_ESCALATED"]) == 2

        await eventually(refused, within_s=30, what="the second escalation")
        events = [e for e in await stream_events(redis, names) if e.subject == f"{REPO}#{number}"]

    finished = [e.data for e in events if e.type == "RUN_FINISHED"]
    assert [f.status for f in finished] == ["stopped"], "one run, stopped; the refused one never started"
    assert finished[0].cost_usd is not None and finished[0].cost_usd > float(RUN_CAP)
    assert len([e for e in events if e.type == "RUN_STARTED"]) == 1
    stopped, refusal = [e.data.reason for e in events if e.type == "ISSUE_ESCALATED"]
    assert stopped.startswith("budget: stopped: the run reached its allowance of $0.50"), stopped
    assert refusal.startswith("budget: no run started: the issue budget of") and "RIG_COSTS_ISSUE_BUDGET_USD" in refusal
    [exceeded] = [e.data for e in events if e.type == "BUDGET_EXCEEDED"]
    assert (exceeded.scope, exceeded.limit_usd) == ("issue", float(ISSUE_CAP))
