"""Helpers of the merger's cross tests (a plain module): the sandbox with delivery chaos feeding a real ingest
process, and the merger as a process of its own that a test starts with a fault point armed and starts again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from github_sandbox_support import CHAOS_SEED, Roles, Sandbox, sandbox_process
from system_support import ROOT, build

from rig_contracts import Names
from rig_contracts.entries import EVENT_FIELD
from rig_identity import mint
from rig_supervisor.harness import System, free_port
from rig_testing.waiting import eventually

REPO = "acme/widgets"
CHAOS = {"RIG_SANDBOX_CHAOS_SEED": str(CHAOS_SEED), "RIG_SANDBOX_MERGEABLE_UNKNOWN_MAX_S": "1"}
"""Delivery chaos at the sandbox's default rates, and `unknown` mergeability for up to a second after a push."""


def github_env(sandbox: Sandbox) -> dict[str, str]:
    """Ingest's and the merger's settings: the sandbox's Apps, quick re-checks."""
    return sandbox.env() | {"RIG_MERGER_UNKNOWN_FIRST_S": "0.2", "RIG_MERGER_RETRY_FIRST_S": "0.5"}


def requester_token(private_key: str) -> dict[str, str]:
    """Headers of review-e asking for merges (and reading them)."""
    return {"Authorization": f"Bearer {mint(private_key, 'agent:review-e', ['merge:request', 'read'])}"}


@dataclass
class MergerProcess:
    """`python -m rig_service.serve merger` on a port of its own, started (with a fault point armed) and again."""

    env: dict[str, str]
    folder: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self, fault: str | None = None) -> None:
        """Start it and wait until it is ready (with `fault` armed: it exits 137 on reaching that point)."""
        self.starts += 1
        env = {**self.env, **({"RIG_FAULT_POINT": fault} if fault else {})}
        log = (self.folder / f"merger-{self.starts}.log").open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rig_service.serve", "merger", "--port", str(self.port), cwd=ROOT, env=env,
            stdout=log, stderr=asyncio.subprocess.STDOUT)
        log.close()
        await eventually(self._ready, within_s=60, what=f"merger ready (start {self.starts})")

    async def _ready(self) -> bool:
        assert self.process is not None
        if self.process.returncode is not None:
            return True  # a fault may fire before it answers: callers wait for the exit then
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=1) as client:
                return (await client.get(f"{self.url}/readyz")).status_code == 200
        return False

    async def exit_status(self, within_s: float = 60) -> int:
        """Wait for the process to exit on its own; its status."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), within_s)

    async def stop(self) -> None:
        """Stop it as an operator would (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


@dataclass
class Flow:
    """A running test system: the sandbox (chaos on), ingest under the supervisor, the merger process."""

    sandbox: Sandbox
    system: System
    merger: MergerProcess
    redis: aioredis.Redis
    names: Names
    headers: dict[str, str]

    async def events(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """(entry id, event) of each event of one type on `rig:events`, in stream order."""
        entries: Any = await self.redis.xrange(self.names.events) or []
        found = [(entry_id.decode(), json.loads(fields[EVENT_FIELD.encode()])) for entry_id, fields in entries]
        return [(entry_id, event) for entry_id, event in found if event["type"] == kind]

    async def of(self, kind: str, **data: Any) -> list[dict[str, Any]]:
        """Events of one type whose data has these values."""
        return [e for _, e in await self.events(kind) if all(e["data"].get(k) == v for k, v in data.items())]

    async def seen(self, kind: str, within_s: float = 60, **data: Any) -> dict[str, Any]:
        """Wait for an event of one type with these data values; return the first."""
        found = await eventually(lambda: self.of(kind, **data), within_s=within_s,
                                 what=f"{kind} with {data}", every_s=0.1)
        return dict(found[0])

    async def ask_merge(self, body: dict[str, Any]) -> httpx.Response:
        """POST /api/merge to the merger as review-e."""
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(f"{self.merger.url}/api/merge", json=body, headers=self.headers)

    async def request_state(self, pr: int) -> dict[str, Any]:
        """GET /api/merge/{owner}/{repo}/{pr}."""
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.get(f"{self.merger.url}/api/merge/{REPO}/{pr}", headers=self.headers)
            return dict(answer.json()) if answer.status_code == 200 else {}

    async def in_state(self, pr: int, state: str, reason: str | None = None, within_s: float = 60) -> dict[str, Any]:
        """Wait until the PR's request is in `state` (with `reason`)."""
        async def there() -> dict[str, Any] | None:
            found = await self.request_state(pr)
            return found if found.get("state") == state and reason in (None, found.get("reason")) else None
        return dict(await eventually(there, within_s=within_s, what=f"#{pr} {state} {reason or ''}"))

    async def merge_calls(self, pr: int) -> list[dict[str, Any]]:
        """Merge calls the sandbox answered for a PR (its request journal)."""
        answer = await self.sandbox.control.get("/_sandbox/requests", params={
            "method": "PUT", "path": f"/repos/{REPO}/pulls/{pr}/merge", "limit": 1000})
        return list(answer.json())

    async def merged_calls(self, pr: int) -> list[dict[str, Any]]:
        """The merge calls of a PR known merged: its MERGED webhook may leave the sandbox before the call's answer
        is journaled (the journal lists a request once answered, GitHub sends webhooks on its own time), so wait
        for at least one."""
        return await eventually(lambda: self.merge_calls(pr), within_s=30, what=f"the merge call of #{pr}",
                                every_s=0.1)


async def open_pr(flow: Flow, roles: Roles, branch: str) -> tuple[int, int, str]:
    """An issue and a PR from the dev App that closes it; (issue, PR, head) once ingest linked them."""
    issue = (await flow.sandbox.post(f"/repos/{REPO}/issues", {"title": f"Work {branch}"}))["number"]
    await flow.sandbox.post(f"/repos/{REPO}/commits", {"branch": branch, "files": {f"{branch}.txt": f"{branch}\n"}})
    pull = await roles.dev.open_pull(REPO, head=branch, title=f"Do {branch}", body=f"Done.\n\nCloses #{issue}")
    await flow.seen("PR_CREATED", pr_number=pull.number)
    return issue, pull.number, pull.head_sha


async def check(flow: Flow, sha: str, conclusion: str | None) -> None:
    """CI reports `ci` on `sha`: finished with `conclusion`, or still running (None)."""
    body = {"ref": sha, "name": "ci"} | ({"conclusion": conclusion} if conclusion else {"status": "in_progress"})
    await flow.sandbox.post(f"/repos/{REPO}/check-runs", body)


async def label(flow: Flow, pr: int, name: str, *, remove: bool = False) -> None:
    """A maintainer adds (or removes) a label on the PR."""
    path = f"/_sandbox/repos/{REPO}/issues/{pr}/labels"
    answer = await (flow.sandbox.control.delete(f"{path}/{name}") if remove else
                    flow.sandbox.control.post(path, json={"labels": [name]}))
    assert answer.status_code == 200, answer.text


async def main_head(roles: Roles) -> str:
    """The default branch's head commit."""
    return str(await roles.conductor.run(lambda gh: gh.get_repo(REPO).get_branch("main").commit.sha))


@contextlib.asynccontextmanager
async def flow(tmp_path: Path, *, database_url: str, redis_url: str, key_prefix: str, schema_suffix: str,
               redis: aioredis.Redis, private_key: str) -> AsyncIterator[Flow]:
    """The sandbox (chaos on) delivering to ingest, and a merger process (not started: tests start it)."""
    system = build(["ingest"], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                   schema_suffix=schema_suffix, folder=tmp_path)
    hook = f"{system.url('ingest')}/webhooks/github"
    async with sandbox_process(tmp_path / "sandbox", None, RIG_SANDBOX_WEBHOOK_URL=hook, **CHAOS) as sandbox:
        system.plan.env.update(github_env(sandbox))
        merger = MergerProcess(dict(system.plan.env), tmp_path)
        async with system:
            await sandbox.post("/repos", {"owner": "acme", "name": "widgets", "files": {"README.md": "# w\n"}})
            try:
                yield Flow(sandbox, system, merger, redis, Names(key_prefix), requester_token(private_key))
            finally:
                await merger.stop()
