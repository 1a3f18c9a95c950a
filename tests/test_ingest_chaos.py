"""Ingest as a real process behind the sandbox process with its delivery chaos on (late, reordered, duplicated,
dropped deliveries; the missed-delivery sweep recovers the dropped ones): two work items whose PR's
`pull_request.closed` and issue's `issues.closed` reach ingest in opposite orders each yield MERGED and ISSUE_CLOSED
once, and the checks on each PR's head carry the PR's issue as subject. The test waits for one closing event to be
published before causing the other, so each order is certain whatever the chaos does to the deliveries."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from github import Github
from github_sandbox_support import Sandbox, sandbox_process
from system_support import build

from rig_contracts import Names
from rig_contracts.entries import EVENT_FIELD
from rig_github import GitHubClient
from rig_supervisor.harness import System
from rig_testing.waiting import eventually

REPO = "acme/widgets"
CHAOS = {"RIG_SANDBOX_CHAOS_SEED": "3", "RIG_SANDBOX_CHAOS_LATE": "0.3", "RIG_SANDBOX_CHAOS_LATE_MAX_S": "1",
         "RIG_SANDBOX_CHAOS_REORDER": "0.3", "RIG_SANDBOX_CHAOS_DUPLICATE": "0.3", "RIG_SANDBOX_CHAOS_DROP": "0.2"}


def ingest_env(sandbox: Sandbox) -> dict[str, str]:
    """What the ingest process needs: the sandbox's webhook secret and its conductor App for the sweep."""
    return sandbox.env() | {"RIG_INGEST_SWEEP_RETRY_AFTER_S": "5"}


class Ingest:
    """What the ingest process stored and published, read from its schema and the stream."""

    def __init__(self, database_url: str, schema: str, redis: aioredis.Redis, key_prefix: str) -> None:
        self.database_url, self.schema, self.redis, self.names = database_url, schema, redis, Names(key_prefix)

    async def fetch(self, query: str) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return list(await conn.fetch(query.format(schema=self.schema)))
        finally:
            await conn.close()

    async def published(self) -> list[dict[str, Any]]:
        """Every event on the stream, in order."""
        entries = await self.redis.xrange(self.names.events) or []
        return [json.loads(fields[EVENT_FIELD.encode()]) for _, fields in entries if fields]

    async def has(self, kind: str, subject: str) -> bool:
        return any(e["type"] == kind and e["subject"] == subject for e in await self.published())

    async def closed_arrivals(self, pr: int, issue: int) -> str:
        """Which closing delivery ingest received first for this pair: 'pr first' or 'issue first'."""
        rows = await self.fetch("SELECT event, received_at FROM {schema}.deliveries WHERE action = 'closed' AND ("
                                f"(event = 'pull_request' AND (payload->'pull_request'->>'number')::int = {pr}) OR "
                                f"(event = 'issues' AND (payload->'issue'->>'number')::int = {issue}))")
        at = {row["event"]: row["received_at"] for row in rows}
        return "pr first" if at["pull_request"] < at["issues"] else "issue first"


async def open_pr(sandbox: Sandbox, dev: GitHubClient, branch: str, issue: int, base: str) -> tuple[int, str]:
    """Push a branch and open a PR into `base` that says it closes `issue`; its number and head SHA."""
    await sandbox.post(f"/repos/{REPO}/commits", {"branch": branch, "files": {f"{branch}.txt": f"{branch}\n"}})
    pull = await dev.open_pull(REPO, head=branch, title=f"Work on #{issue}", body=f"Does it.\n\nFixes #{issue}",
                               base=base)
    return pull.number, pull.head_sha


def close_issue(gh: Github, number: int) -> None:
    """Close an issue by hand, as a person would (PyGithub, in the client's pool)."""
    gh.get_repo(REPO).get_issue(number).edit(state="closed")


async def passing_check(conductor: GitHubClient, sha: str) -> None:
    await conductor.run(lambda gh: gh.get_repo(REPO).create_check_run(
        "ci", sha, status="completed", conclusion="success", output={"title": "ci", "summary": "green"}).id)


async def test_merged_and_closed_in_either_order_under_delivery_chaos(
        tmp_path: Path, database_url, redis_url, key_prefix, schema_suffix, redis) -> None:
    system: System = build(["ingest"], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                           schema_suffix=schema_suffix, folder=tmp_path)
    hook = f"{system.url('ingest')}/webhooks/github"
    async with sandbox_process(tmp_path / "sandbox", None, RIG_SANDBOX_WEBHOOK_URL=hook, **CHAOS) as sandbox:
        system.plan.env.update(ingest_env(sandbox))
        ingest = Ingest(database_url, f"ingest{schema_suffix}", redis, key_prefix)
        async with system, sandbox.roles() as roles:
            async def seen(kind: str, issue: int) -> None:
                await eventually(lambda: ingest.has(kind, f"{REPO}#{issue}"), within_s=60, what=f"{kind} for #{issue}")

            await sandbox.post("/repos", {"owner": "acme", "name": "widgets", "files": {"README.md": "# w\n"}})
            await sandbox.post(f"/repos/{REPO}/commits", {"branch": "release", "files": {"r.txt": "r\n"}})
            items = []
            for name, base in (("first", "release"), ("second", "main")):
                issue = (await sandbox.post(f"/repos/{REPO}/issues", {"title": f"The {name} one"}))["number"]
                pr, head = await open_pr(sandbox, roles.dev, name, issue, base)
                # CI reports after the PR is known, as it does on GitHub: the check has the issue as subject.
                await seen("PR_CREATED", issue)
                await passing_check(roles.conductor, head)
                items.append((issue, pr, head))
            first, second = items
            # First: merged (into a branch that closes nothing), then its issue closed by hand.
            await roles.conductor.merge(REPO, first[1], first[2])
            await seen("MERGED", first[0])
            await roles.conductor.run(lambda gh: close_issue(gh, first[0]))
            # Second: its issue closed by hand, then merged into the default branch.
            await roles.conductor.run(lambda gh: close_issue(gh, second[0]))
            await seen("ISSUE_CLOSED", second[0])
            await roles.conductor.merge(REPO, second[1], second[2])
            for issue, _, _ in items:
                for kind in ("MERGED", "ISSUE_CLOSED", "CHECKS_COMPLETED"):
                    await seen(kind, issue)
            deliveries = (await sandbox.control.get("/_sandbox/deliveries")).json()
            orders = {await ingest.closed_arrivals(pr, issue) for issue, pr, _ in items}

    events = Counter((e["type"], e["subject"]) for e in await ingest.published())
    for issue, _, _ in items:
        assert events[("MERGED", f"{REPO}#{issue}")] == 1
        assert events[("ISSUE_CLOSED", f"{REPO}#{issue}")] == 1
        assert events[("PR_CREATED", f"{REPO}#{issue}")] == 1
        assert events[("CHECKS_COMPLETED", f"{REPO}#{issue}")] >= 1
    assert not any(subject.startswith(f"{REPO}@") for kind, subject in events if kind == "CHECKS_COMPLETED")
    assert orders == {"pr first", "issue first"}
    attempts = Counter(d["guid"] for d in deliveries if not d["redelivery"])
    assert any(d["status_code"] == 502 for d in deliveries), "the chaos dropped a delivery"
    assert any(count > 1 for count in attempts.values()), "the chaos duplicated a delivery"
    assert any(d["redelivery"] and d["status_code"] == 200 for d in deliveries), "the sweep recovered one"
