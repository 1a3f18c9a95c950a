"""A test-only agent that speaks nothing but the public agent runtime's wire format (docs/design.md section 9).

What that runtime's stream consumer, conductor client, heartbeat and agent-log modules do, for the whole-loop test
of issue 14: it reads `assignments:{agent}` in the `agents` group (consumer = the agent id) and pops one wake entry
per entry it takes; it never sends WORK_STARTED; it heartbeats as `{agent}/{last 5 of HOSTNAME}`; it opens an
execution log per entry (steps, lines, completion) and sends each line to `/api/agent-logs` too; it reads and writes
repo learnings and keeps its provider session under `session:{repo}#{N}`. Its calls carry no token: it calls from
`RIG_TEST_RUNTIME_ADDRESS`, a network the services trust.

Its coding CLI is a stand-in that follows the prompt, so what reaches the prompt decides the outcome: it writes
`hello.txt`, and adds each line a review asked for ("needs the line `…`") only when the review's text is in the
prompt, which the runtime builds from the entry's `body` alone. As a reviewer it approves a head whose `hello.txt`
holds that line, asks for it otherwise, and asks for the merge by `{repo, prNumber}` as soon as it has approved.
Each prompt is appended, as JSON, to `RIG_TEST_PROMPT_LOG`. Its git is Dev-E's own checkout code (plumbing, not
the wire format).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from rig_agent.workspace import Workspace
from rig_contracts import Names
from rig_github import GitHubClient, GitHubSettings

GROUP = "agents"
ASKED = "fixed after review"
"""The line review asks for; the stand-in CLI adds it only when the review's text is in its prompt."""
WANTS = re.compile(r"needs the line `([^`]+)`")
MODEL = "claude-sonnet-4-5"


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Runtime:
    """One runtime process of one agent pool."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        hostname = os.environ.get("HOSTNAME") or socket.gethostname()
        self.instance = f"{agent}/{hostname[-5:]}"
        self.names = Names(os.environ.get("RIG_KEY_PREFIX", ""))
        self.valkey = aioredis.Redis.from_url(os.environ.get("RIG_AGENT_REDIS_URL") or os.environ["RIG_REDIS_URL"])
        transport = httpx.AsyncHTTPTransport(local_address=os.environ["RIG_TEST_RUNTIME_ADDRESS"])
        self.http = httpx.AsyncClient(base_url=os.environ["RIG_AGENT_CONDUCTOR_URL"], transport=transport, timeout=30)
        self.github = GitHubClient(GitHubSettings(), "review" if agent == "review-e" else "dev")
        self.current: tuple[str, int] | None = None
        self.run_id = ""

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One conductor call; a 503 or a refused connection is tried again, anything else is final."""
        for _ in range(30):
            try:
                response = await self.http.request(method, path, json=body)
            except httpx.TransportError:
                await asyncio.sleep(0.5)
                continue
            if response.status_code != 503:
                if response.status_code >= 400:
                    raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text}")
                return response
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{method} {path}: the conductor did not answer")

    async def heartbeat(self) -> None:
        repo, number = self.current or (None, None)
        await self.call("POST", "/api/events", {
            "type": "HEARTBEAT", "agentId": self.instance, "status": "busy" if self.current else "idle",
            "currentIssue": number, "currentRepo": repo, "activeProvider": "claude-cli",
            "availableProviders": ["claude-cli"], "providers": {"claude-cli": {"available": True}},
            "integrations": {"github": True}})

    async def heartbeats(self) -> None:
        while True:
            await self.heartbeat()
            await asyncio.sleep(float(os.environ.get("RIG_AGENT_HEARTBEAT_S", "2")))

    async def line(self, message: str) -> None:
        """One output line, sent as the runtime sends it: to the run's log and to the agent log."""
        repo, number = self.current or ("", 0)
        now = datetime.now(UTC)
        await self.call("POST", f"/api/execution-logs/{self.run_id}/logs",
                        [{"timestamp": int(now.timestamp() * 1000), "level": "info", "message": message}])
        await self.call("POST", "/api/agent-logs", {"agentId": self.agent, "entries": [
            {"ts": now.isoformat(), "level": "info", "message": message, "repo": repo, "issueNumber": number}]})

    async def step(self, kind: str, detail: str, status: str = "completed") -> None:
        await self.call("POST", f"/api/execution-logs/{self.run_id}/steps",
                        {"type": kind, "status": status, "detail": detail, "turns": 1 if kind == "provider" else 0})

    async def serve(self) -> None:
        """Take entries until none came for RIG_AGENT_IDLE_EXIT_S, then exit."""
        stream = self.names.assignments(self.agent)
        try:
            await self.valkey.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except aioredis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        beating = asyncio.create_task(self.heartbeats())
        idle_since = time.monotonic()
        try:
            while time.monotonic() - idle_since < float(os.environ.get("RIG_AGENT_IDLE_EXIT_S", "3")):
                found: Any = await self.valkey.xreadgroup(GROUP, self.agent, {stream: ">"}, count=1, block=200)
                if not found:
                    continue
                [(_stream, [(entry_id, raw)])] = found
                await self.valkey.lpop(self.names.signal(self.agent))  # one wake entry per entry taken
                fields = {text(k): text(v) for k, v in raw.items()}
                self.current = (fields["repo"], int(fields["issueNumber"]))
                await self.heartbeat()
                await (self.review(fields) if self.agent == "review-e" else self.develop(fields))
                await self.valkey.xack(stream, GROUP, entry_id)
                self.current = None
                await self.heartbeat()
                idle_since = time.monotonic()
        finally:
            beating.cancel()
            await self.http.aclose()
            await self.valkey.aclose()
            await self.github.aclose()

    async def open_run(self, repo: str, number: int) -> None:
        opened = await self.call("POST", "/api/execution-logs", {"repo": repo, "issueNumber": number,
                                                                 "agentId": self.agent, "status": "running",
                                                                 "model": MODEL, "steps": []})
        self.run_id = opened.json()["id"]

    async def complete(self, pr_number: int | None) -> None:
        await self.call("POST", f"/api/execution-logs/{self.run_id}/complete", {
            "status": "completed", "totalCostUsd": 0.012, "totalTurns": 2, "totalInputTokens": 1500,
            "totalOutputTokens": 90, "cacheReadTokens": 0, "cacheCreationTokens": 0, "durationApiMs": 800,
            "prNumber": pr_number})

    async def develop(self, fields: dict[str, str]) -> None:
        repo, number = fields["repo"], int(fields["issueNumber"])
        learnings = (await self.call("GET", f"/api/repo-learnings?repo={repo}")).json()
        known = "".join(f"\n- {item['key']}: {item['value']}" for item in learnings if isinstance(item, dict))
        prompt = f"Implement issue #{number} of {repo}: {fields['title']}\n\n{fields['body']}"
        prompt += f"\n\nWhat we learned about this repository:{known}" if known else ""
        session_key = self.names.session(repo, number)
        session = await self.valkey.get(session_key)
        note_prompt({"agent": self.agent, "repo": repo, "number": number, "prompt": prompt,
                     "resumed": text(session) if session else None})
        await self.open_run(repo, number)
        branch = f"runtime/issue-{number}"
        with tempfile.TemporaryDirectory() as folder:
            clone = Workspace(Path(folder) / "clone", await self.github.git_token())
            await clone.clone((await self.github.get_repo(repo)).clone_url)
            exists = bool((await clone.git("ls-remote", "--heads", "origin", branch)).strip())
            await clone.git("checkout", "--quiet", *((branch,) if exists else ("-b", branch)))
            expected = await clone.head() if exists else ""
            await self.line(f"cloned {repo} on {branch}")
            await self.step("clone", f"{repo} on {branch}")
            stand_in_cli(prompt, clone.path)
            await self.line("the coding CLI finished")
            await self.step("provider", "claude-cli")
            await self.valkey.set(session_key, text(session) if session else f"session-{uuid.uuid4()}", ex=7 * 86400)
            test = await asyncio.create_subprocess_shell(fields.get("testCommand") or "true", cwd=clone.path,
                                                         env={"PATH": os.environ["PATH"]})
            await self.step("test", fields.get("testCommand", ""), "completed" if await test.wait() == 0 else "failed")
            if await clone.commit_all(f"{fields['title']} (#{number})") is None:
                raise RuntimeError("the coding CLI changed nothing")
            await clone.push(branch, expected)
            await self.step("push", branch)
        pr_number = None
        if not exists:
            pull = await self.github.open_pull(repo, head=branch, title=fields["title"], body=f"Closes #{number}")
            pr_number = pull.number
            await self.call("POST", "/api/events", {"type": "PR_CREATED", "agentId": self.agent, "repo": repo,
                                                    "issueNumber": number, "prNumber": pull.number,
                                                    "prUrl": pull.html_url, "branch": branch})
        if fields.get("testCommand"):
            await self.call("POST", "/api/repo-learnings", {"repo": repo, "key": "test-command",
                                                            "value": fields["testCommand"], "agentId": self.agent})
        await self.call("POST", "/api/events", {"type": "TOKEN_USAGE", "agentId": self.agent, "repo": repo,
                                                "issueNumber": number, "model": MODEL, "inputTokens": 1500,
                                                "outputTokens": 90, "costUsd": 0.012, "category": "work"})
        await self.complete(pr_number)

    async def review(self, fields: dict[str, str]) -> None:
        repo, pr_number = fields["repo"], int(fields["issueNumber"])
        await self.open_run(repo, pr_number)  # the PR's number: the conductor files it under the linked issue
        pull = await self.github.get_pull(repo, pr_number)
        hello = await self.github.get_file(repo, "hello.txt", ref=pull.head_sha)
        await self.line(f"reviewing {repo}#{pr_number} at {pull.head_sha}")
        if hello is not None and ASKED in hello.text:
            await self.github.create_review(repo, pr_number, pull.head_sha, "APPROVE", "Both lines are there.")
            await self.step("review", "APPROVE")
            merge = await self.call("POST", "/api/merge", {"repo": repo, "prNumber": pr_number})
            await self.line(f"merge requested: {merge.status_code}")
        else:
            await self.github.create_review(repo, pr_number, pull.head_sha, "REQUEST_CHANGES",
                                            f"hello.txt needs the line `{ASKED}`.")
            await self.step("review", "REQUEST_CHANGES")
        await self.complete(pr_number)


def stand_in_cli(prompt: str, clone: Path) -> None:
    """The coding CLI's stand-in: `hello.txt`, plus every line the prompt says a review asked for."""
    hello = clone / "hello.txt"
    lines = hello.read_text().splitlines() if hello.exists() else ["hello from the runtime"]
    lines += [wanted for wanted in WANTS.findall(prompt) if wanted not in lines]
    hello.write_text("".join(f"{line}\n" for line in lines))


def note_prompt(record: dict[str, Any]) -> None:
    with open(os.environ["RIG_TEST_PROMPT_LOG"], "a") as log:
        log.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    asyncio.run(Runtime(sys.argv[sys.argv.index("--agent") + 1]).serve())
