"""Helpers of the merger tests (a plain module): a repository on the sandbox process and the people around a PR.

The dev App pushes and opens PRs, the review App approves (GitHub refuses self-approval), the conductor App is
the merger's; CI is reported through the sandbox's control API, as a CI system would.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from rig_contracts import Envelope, Names
from rig_contracts.entries import EVENT_FIELD
from rig_contracts.parsing import parse_event
from rig_github import GitHubClient, GitHubSettings, Role
from rig_supervisor.local import sandbox_env

OWNER, NAME = "acme", "widgets"
REPO = f"{OWNER}/{NAME}"
FILES = {"README.md": "# widgets\n", "src/app.py": "VALUE = 1\n"}


def github_settings(url: str, apps: list[dict[str, Any]]) -> GitHubSettings:
    """Client settings pointing every role at the sandbox with its App, unthrottled (it is local)."""
    values: dict[str, Any] = {}
    for app in apps:
        role = app["role"]
        values |= {f"github_{role}_app_id": app["id"], f"github_{role}_installation_id": app["installation_id"],
                   f"github_{role}_private_key_file": Path(app["key_path"])}
        values[f"github_{role}_login"] = app["bot_login"]
    return GitHubSettings(github_api_url=url, github_seconds_between_requests=0, github_seconds_between_writes=0,
                          github_retry_backoff_factor=0.05, github_retry_max_wait=2, **values)


def github_env(url: str, apps: list[dict[str, Any]]) -> dict[str, str]:
    """The same settings as environment variables, for service processes (quick retries: it is local)."""
    return sandbox_env(url, apps) | {"RIG_GITHUB_RETRY_BACKOFF_FACTOR": "0.05", "RIG_GITHUB_RETRY_MAX_WAIT": "2"}


@dataclass
class World:
    """The sandbox as the people around a PR use it."""

    url: str
    control: httpx.AsyncClient
    github: GitHubSettings
    dev: GitHubClient
    review: GitHubClient
    conductor: GitHubClient

    async def ask(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the control API (`/_sandbox…`), expecting success."""
        answer = await self.control.request(method, f"/_sandbox{path}", json=body)
        assert answer.status_code < 300, answer.text
        return answer.json()

    async def create_repo(self) -> None:
        """The test repository with one first commit on main."""
        await self.ask("POST", "/repos", {"owner": OWNER, "name": NAME, "files": FILES})

    async def issue(self, title: str = "Add a feature") -> int:
        """Open an issue; return its number."""
        return int((await self.ask("POST", f"/repos/{REPO}/issues", {"title": title}))["number"])

    async def push(self, branch: str, files: dict[str, str], start: str | None = None) -> str:
        """Commit `files` on `branch` (created from `start`, default main) and push; return the new head."""
        body: dict[str, Any] = {"branch": branch, "files": files, "message": f"Change {', '.join(files)}"}
        if start:
            body["from"] = start
        return str((await self.ask("POST", f"/repos/{REPO}/commits", body))["sha"])

    async def open_pull(self, branch: str, files: dict[str, str], closes: int | None = None) -> tuple[int, str]:
        """Push `branch` and open a PR from it as the dev App; return (number, head SHA)."""
        sha = await self.push(branch, files)
        body = f"Changes {branch}." + (f"\n\nCloses #{closes}" if closes else "")
        pull = await self.dev.open_pull(REPO, head=branch, title=f"Work on {branch}", body=body)
        return pull.number, sha

    async def approve(self, number: int, sha: str) -> None:
        """review-e approves the PR at `sha`."""
        await self.review.create_review(REPO, number, sha, "APPROVE", "Looks right.")

    async def check(self, sha: str, conclusion: str | None, name: str = "ci") -> None:
        """CI reports check run `name` on `sha`: finished with `conclusion`, or still running when None."""
        body = {"ref": sha, "name": name} | ({"conclusion": conclusion} if conclusion else {"status": "in_progress"})
        await self.ask("POST", f"/repos/{REPO}/check-runs", body)

    async def label(self, number: int, label: str) -> None:
        """A maintainer adds a label to the PR."""
        await self.ask("POST", f"/repos/{REPO}/issues/{number}/labels", {"labels": [label]})

    async def unlabel(self, number: int, label: str) -> None:
        """A maintainer removes a label from the PR."""
        await self.ask("DELETE", f"/repos/{REPO}/issues/{number}/labels/{label}")

    async def merge_calls(self, number: int) -> list[dict[str, Any]]:
        """Every merge call the sandbox answered for this PR (from its request journal)."""
        entries = await self.ask("GET", f"/requests?method=PUT&path=/repos/{REPO}/pulls/{number}/merge&limit=1000")
        return list(entries)

    async def main_head(self) -> str:
        """The default branch's head commit."""
        return str(await self.conductor.run(lambda gh: gh.get_repo(REPO).get_branch("main").commit.sha))

    async def parents(self, sha: str) -> list[str]:
        """A commit's parents."""
        return list(await self.conductor.run(lambda gh: [p.sha for p in gh.get_repo(REPO).get_commit(sha).parents]))


@contextlib.asynccontextmanager
async def world(url: str) -> AsyncIterator[World]:
    """Clients of a running sandbox for the block."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as control:
        apps = (await control.get("/_sandbox/apps")).json()
        settings = github_settings(url, apps)
        async with (GitHubClient(settings, Role.DEV) as dev, GitHubClient(settings, Role.REVIEW) as review,
                    GitHubClient(settings, Role.CONDUCTOR) as conductor):
            yield World(url, control, settings, dev, review, conductor)


async def stream_events(redis: aioredis.Redis, names: Names) -> list[tuple[str, Envelope]]:
    """Every event on `rig:events` with its entry id, in stream order."""
    entries: Any = await redis.xrange(names.events)
    found: list[tuple[str, Envelope]] = []
    for entry_id, fields in entries:
        found.append((entry_id.decode(), parse_event(json.loads(fields[EVENT_FIELD.encode()]))))
    return found


async def of_type(redis: aioredis.Redis, names: Names, kind: str) -> list[Envelope]:
    """The events of one type on `rig:events`."""
    return [event for _, event in await stream_events(redis, names) if event.type == kind]
