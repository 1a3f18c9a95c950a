"""Merger bench: time from the last CHECKS_COMPLETED on `rig:events` to the merge call arriving at GitHub.

Real processes: the sandbox (GitHub stand-in, no delivery chaos: the figure starts at the stream entry, after the
webhook path), ingest (its webhooks in) and the merger. Each round opens a PR, approves it, asks for the merge
while CI is still running (the merger waits), then reports CI green. The start is the stream timestamp (the entry
id's milliseconds) of the last CHECKS_COMPLETED for the head before the merge call; the end is when the sandbox's
request journal saw `PUT …/merge` arrive. Both clocks are this machine's.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from bench.report import Figure, write
from bench.teardown import cleanup
from rig_contracts import Names
from rig_contracts.entries import EVENT_FIELD
from rig_github import GitHubClient, GitHubSettings, Role
from rig_identity import generate_keypair, mint
from rig_service.topology import load
from rig_supervisor.harness import System
from rig_supervisor.local import sandbox_env
from rig_testing import servers
from rig_testing.sandbox import sandbox_process

MERGES = 40
TARGET_P99_MS = 200.0
REPO = "bench/merges"
SECRET = "bench-webhook-secret"


class Bench:
    """The running system and what one round needs."""

    def __init__(self, control: httpx.AsyncClient, redis: aioredis.Redis, names: Names, merger_url: str,
                 token: str, dev: GitHubClient, review: GitHubClient) -> None:
        self.control, self.redis, self.names, self.merger_url = control, redis, names, merger_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.dev, self.review = dev, review

    async def control_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.control.post(f"/_sandbox{path}", json=body)
        answer.raise_for_status()
        return dict(answer.json())

    async def state(self, pr: int) -> dict[str, Any]:
        answer = await self.control.get(f"{self.merger_url}/api/merge/{REPO}/{pr}", headers=self.headers)
        return dict(answer.json()) if answer.status_code == 200 else {}

    async def until(self, pr: int, *states: str, approved: str | None = None,
                    reason: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while ((found := await self.state(pr)).get("state") not in states
               or approved not in (None, found.get("approved_sha")) or reason not in (None, found.get("reason"))):
            if time.monotonic() > deadline:
                raise RuntimeError(f"#{pr} never reached {states}: {found}")
            await asyncio.sleep(0.02)
        return found

    async def round(self, n: int) -> dict[str, float]:
        """One merge: PR, approval, request while CI runs, CI green; the latency and where it went (ms)."""
        branch = f"bench-{n}"
        sha = (await self.control_post(f"/repos/{REPO}/commits", {"branch": branch, "files": {f"{n}.txt": "x"}}))[
            "sha"]
        pr = (await self.dev.open_pull(REPO, head=branch, title=f"Bench {n}", body="bench")).number
        await self.review.create_review(REPO, pr, sha, "APPROVE", "ok")
        await self.control_post(f"/repos/{REPO}/check-runs", {"ref": sha, "name": "ci", "status": "in_progress"})
        asked = await self.control.post(f"{self.merger_url}/api/merge", headers=self.headers,
                                        json={"repo": REPO, "pr_number": pr, "head_sha": sha})
        asked.raise_for_status()
        # Evaluated once (waiting for CI) and the approval's event applied: the only wake-up left is CI's.
        await self.until(pr, "waiting", approved=sha, reason="checks pending")
        await self.control_post(f"/repos/{REPO}/check-runs", {"ref": sha, "name": "ci", "conclusion": "success"})
        await self.until(pr, "merged", "done")
        merge_at = await self.arrival(f"/repos/{REPO}/pulls/{pr}/merge", "PUT") * 1000
        checks = await self.checks_ms(sha)
        last = max(ms for ms in checks if ms <= merge_at)
        reads = [at * 1000 for at in await self.arrivals(f"/repos/{REPO}/pulls/{pr}", "GET")]
        first_read = min(at for at in reads if at >= checks[0])
        calls = (await self.control.get("/_sandbox/requests", params={"path": f"/repos/{REPO}/**", "limit": 50})).json()
        window = [c for c in calls if c["app"] == "conductor" and first_read <= c["at"] * 1000 < merge_at]
        answered = max((c["at"] + c["duration_s"]) * 1000 for c in window)
        return {"latency": merge_at - last, "from_first": merge_at - checks[0], "wake": first_read - checks[0],
                "evaluation": merge_at - first_read, "reads": answered - first_read, "own": merge_at - answered}

    async def arrivals(self, path: str, method: str) -> list[float]:
        """When the sandbox saw each such request, in epoch seconds."""
        params: dict[str, Any] = {"method": method, "path": path, "limit": 1000}
        entries = (await self.control.get("/_sandbox/requests", params=params)).json()
        if not entries:
            raise RuntimeError(f"the sandbox saw no {method} {path}")
        return [float(entry["at"]) for entry in entries]

    async def arrival(self, path: str, method: str) -> float:
        """When the sandbox saw the first such request, in epoch seconds."""
        return min(await self.arrivals(path, method))

    async def checks_ms(self, sha: str) -> list[float]:
        """Stream times of every CHECKS_COMPLETED for `sha`, in stream order."""
        entries: Any = await self.redis.xrange(self.names.events)
        found = [float(entry_id.decode().split("-")[0]) for entry_id, fields in entries
                 if (event := json.loads(fields[EVENT_FIELD.encode()]))["type"] == "CHECKS_COMPLETED"
                 and event["data"]["sha"] == sha]
        if not found:
            raise RuntimeError(f"no CHECKS_COMPLETED for {sha}")
        return found


async def main() -> None:
    database_url, redis_url = servers.database_url(), servers.redis_url()
    run = uuid.uuid4().hex[:8]
    names, suffix = Names(f"bench:{run}:"), f"_b{run}"
    folder = Path(tempfile.mkdtemp(prefix="rig-merger-bench-"))
    private, public = generate_keypair()
    topology = load(None)
    env = {**os.environ, "RIG_DATABASE_URL": database_url, "RIG_REDIS_URL": redis_url,
           "RIG_KEY_PREFIX": names.prefix, "RIG_SCHEMA_SUFFIX": suffix, "RIG_DATA_DIR": str(folder),
           "RIG_TOKEN_PUBLIC_KEY": public, "RIG_LOG_LEVEL": "WARNING",
           "RIG_INGEST_WEBHOOK_SECRETS": json.dumps([SECRET]), "RIG_INGEST_SWEEP_ENABLED": "false"}
    env.pop("RIG_FAULT_POINT", None)
    system = System([topology.spec("ingest"), topology.spec("merger")], env=env, redis_url=redis_url, names=names)
    hook = f"{system.url('ingest')}/webhooks/github"
    redis = aioredis.Redis.from_url(redis_url)
    rounds: list[dict[str, float]] = []
    with sandbox_process(folder / "sandbox", RIG_SANDBOX_WEBHOOK_URL=hook, RIG_SANDBOX_WEBHOOK_SECRET=SECRET) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as control:
            apps = (await control.get("/_sandbox/apps")).json()
            github_env = sandbox_env(url, apps)
            system.plan.env.update(github_env)
            github = GitHubSettings.model_validate({k.removeprefix("RIG_").lower(): v for k, v in github_env.items()})
            await control.post("/_sandbox/repos", json={"owner": "bench", "name": "merges", "files": {"a": "a"}})
            async with (system, GitHubClient(github, Role.DEV) as dev, GitHubClient(github, Role.REVIEW) as review):
                bench = Bench(control, redis, names, system.url("merger"),
                              mint(private, "agent:review-e", ["merge:request", "read"]), dev, review)
                await bench.round(-1)  # warm-up: connections, tokens, caches
                for n in range(MERGES):
                    rounds.append(await bench.round(n))
    await cleanup(database_url, suffix, redis, names)
    report(rounds)


def report(rounds: list[dict[str, float]]) -> None:
    """The figures: the target one, and where its time goes."""
    def cut(name: str, q: int) -> float:
        return round(statistics.quantiles([r[name] for r in rounds], n=100)[q - 1], 1)

    write("merger", [
        Figure("merger: last CHECKS_COMPLETED → merge call, p50", cut("latency", 50), "ms"),
        Figure("merger: last CHECKS_COMPLETED → merge call, p99", cut("latency", 99), "ms", TARGET_P99_MS,
               lower_is_better=True,
               profile={"wake_p50_ms": cut("wake", 50), "wake_p99_ms": cut("wake", 99),
                        "evaluation_p50_ms": cut("evaluation", 50), "evaluation_p99_ms": cut("evaluation", 99),
                        "sandbox_reads_p50_ms": cut("reads", 50), "sandbox_reads_p99_ms": cut("reads", 99),
                        "merger_own_p50_ms": cut("own", 50), "merger_own_p99_ms": cut("own", 99),
                        "wake": "first CHECKS_COMPLETED of the head → the merger reads the PR (consumer read, "
                                "projection commit, NOTIFY, lease)",
                        "evaluation": "that read → the merge call (PR, reviews and checks read at once, then PUT)",
                        "sandbox_reads": "first read sent → last read answered, as the sandbox's journal times them "
                                         "(reading a PR computes its mergeability with git)",
                        "merger_own": "last read answered → the merge call arriving (policy, client, thread hops)"}),
        Figure("merger: first CHECKS_COMPLETED → merge call, p50", cut("from_first", 50), "ms"),
        Figure("merger: first CHECKS_COMPLETED → merge call, p99", cut("from_first", 99), "ms"),
    ], {"merges": len(rounds), "repository": REPO, "delivery_chaos": False,
        "note": "CI reports a check run and then its suite: two CHECKS_COMPLETED per head. The merger may act on "
                "the first; the target figure starts at the last one before the merge call."})


if __name__ == "__main__":
    asyncio.run(main())
