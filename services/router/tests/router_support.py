"""Helpers of the router service tests: events about one issue, publishing them, reading what the router did."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from rig_bus import Outgoing, Publisher
from rig_bus.messages import decode_fields
from rig_contracts import Envelope, Names, event_from_json
from rig_contracts.catalogue import (
    IssueApprovedEvent,
    IssueUnapprovedEvent,
    MergeBlockedEvent,
    MergeRequestedEvent,
    PrCreatedEvent,
    PrUpdatedEvent,
    ReviewDisputedEvent,
    ReviewPassedEvent,
)
from rig_github import GitHubClient, GitHubSettings
from rig_identity import generate_keypair, mint

SHA_A, SHA_B = "a" * 40, "b" * 40
DEV_BOT = "rig-dev[bot]"
"""The dev App's bot login, whose PRs the router under test adopts (its settings say so)."""
REVIEW_BOT = "rig-review[bot]"
"""review-e's login on the sandbox (its App is named rig-review): the only bot whose reviews count."""
KEYS = generate_keypair()
"""The key pair the router under test trusts (its public half is in the settings)."""


def token(subject: str = "cli:test", *scopes: str) -> dict[str, str]:
    """An Authorization header with a token for `subject` (every right unless scopes are given)."""
    return {"Authorization": f"Bearer {mint(KEYS[0], subject, list(scopes) or ['admin'])}"}



@dataclass
class Issue:
    """Events about one issue of one repository, as ingest would publish them."""

    repo: str
    number: int

    @property
    def subject(self) -> str:
        return f"{self.repo}#{self.number}"

    def approved(self, key: str = "approved:1", title: str = "Fix the cart", body: str = "",
                 labels: tuple[str, ...] = ("agent-ready",)) -> IssueApprovedEvent:
        return IssueApprovedEvent.of(source="ingest", subject=self.subject, key=f"{key}:{self.subject}", data={
            "repo": self.repo, "number": self.number, "title": title, "body": body, "labels": labels})

    def unapproved(self, key: str = "unapproved:1") -> IssueUnapprovedEvent:
        return IssueUnapprovedEvent.of(source="ingest", subject=self.subject, key=f"{key}:{self.subject}",
                                       data={"repo": self.repo, "number": self.number})

    def pr_created(self, pr: int, head: str = SHA_A) -> PrCreatedEvent:
        return PrCreatedEvent.of(source="ingest", subject=self.subject, key=f"pr:{self.repo}#{pr}", data={
            "repo": self.repo, "pr_number": pr, "issue_number": self.number, "head_sha": head,
            "head_ref": "rig/fix", "base_ref": "main", "author": DEV_BOT, "head_repo": self.repo})

    def disputed(self, pr: int, review_id: int, head: str = SHA_A, feedback: str = "Handle the empty cart."
                 ) -> ReviewDisputedEvent:
        return ReviewDisputedEvent.of(source="ingest", subject=self.subject, key=f"review:{self.repo}#{pr}:{review_id}",
                                      data={"repo": self.repo, "pr_number": pr, "review_id": review_id,
                                            "commit_id": head, "reviewer": REVIEW_BOT, "feedback": feedback})


    def passed(self, pr: int, review_id: int, head: str = SHA_A) -> ReviewPassedEvent:
        return ReviewPassedEvent.of(source="ingest", subject=self.subject, key=f"review:{self.repo}#{pr}:{review_id}",
                                    data={"repo": self.repo, "pr_number": pr, "review_id": review_id,
                                          "commit_id": head, "reviewer": REVIEW_BOT})

    def pr_updated(self, pr: int, head: str, before: str) -> PrUpdatedEvent:
        return PrUpdatedEvent.of(source="ingest", subject=self.subject, key=f"pr-head:{self.repo}#{pr}:{head}",
                                 data={"repo": self.repo, "pr_number": pr, "head_sha": head, "before_sha": before,
                                       "author": DEV_BOT, "head_repo": self.repo})

    def merge_requested(self, pr: int, head: str = SHA_A) -> MergeRequestedEvent:
        return MergeRequestedEvent.of(source="merger", subject=self.subject, key=f"merge:{self.repo}#{pr}:{head}",
                                      data={"repo": self.repo, "pr_number": pr, "head_sha": head,
                                            "requested_by": "agent:review-e"})

    def merge_blocked(self, pr: int, reason: str, detail: str, n: int, head: str = SHA_A) -> MergeBlockedEvent:
        return MergeBlockedEvent.of(source="merger", subject=self.subject, key=f"blocked:{self.repo}#{pr}:{n}",
                                    data={"repo": self.repo, "pr_number": pr, "reason": reason, "detail": detail,
                                          "head_sha": head})


def again(event: Envelope) -> Envelope:
    """The same fact under a new event id (a webhook delivered twice becomes two events with one key)."""
    return type(event).of(**event.model_dump(exclude={"id"}))


async def publish(redis: aioredis.Redis, names: Names, *events: Envelope) -> None:
    """Append events to `rig:events` as a producer's relay would."""
    await Publisher(redis, names).publish([Outgoing.of(e, names.events) for e in events])


async def entries(redis: aioredis.Redis, stream: str) -> list[dict[str, str]]:
    """Every entry of a stream, decoded."""
    return [decode_fields(fields) for _, fields in await redis.xrange(stream) or [] if fields]


async def events_of(redis: aioredis.Redis, names: Names, kind: str, subject: str | None = None) -> list[Envelope]:
    """Events of type `kind` on `rig:events` (about `subject`, if given)."""
    found = []
    for entry in await entries(redis, names.events):
        with contextlib.suppress(ValueError, KeyError):  # entries that hold no event (tests put some there)
            found.append(event_from_json(entry["event"]))
    return [e for e in found if e.type == kind and (subject is None or e.subject == subject)]


async def history(database_url: str, schema: str, subject: str) -> list[dict[str, Any]]:
    """The router's history rows of an item."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT type, key, outcome, anomaly, decisions::text "
                                f'FROM "{schema}".work_item_history WHERE subject = $1 ORDER BY seq', subject)
    finally:
        await conn.close()
    return [{**dict(r), "decisions": json.loads(r["decisions"])} for r in rows]




async def comments(github: GitHubClient, repo: str, number: int) -> list[str]:
    """Bodies of the comments on an issue, read through the client library (PyGithub)."""
    bodies: list[str] = await github.run(
        lambda gh: [c.body for c in gh.get_repo(repo).get_issue(number).get_comments()])
    return bodies


def github_settings(sandbox_url: str) -> GitHubSettings:
    """Client settings for every role's App on the sandbox (no throttle: it is local)."""
    apps = httpx.get(f"{sandbox_url}/_sandbox/apps").json()
    values: dict[str, Any] = {}
    for app in apps:
        role = app["role"]
        values |= {f"github_{role}_app_id": app["id"], f"github_{role}_installation_id": app["installation_id"],
                   f"github_{role}_private_key_file": app["key_path"]}
        values[f"github_{role}_login"] = app["bot_login"]
    return GitHubSettings(github_api_url=sandbox_url, github_seconds_between_requests=0,
                          github_seconds_between_writes=0, github_retry_backoff_factor=0.1, github_retry_max_wait=5,
                          **values)


def make_repo(sandbox: str, name: str, files: dict[str, str]) -> str:
    """A sandbox repository `acme/{name}` with one first commit of `files`."""
    answer = httpx.post(f"{sandbox}/_sandbox/repos", json={"owner": "acme", "name": name, "files": files})
    assert answer.status_code == 201, answer.text
    return f"acme/{name}"


def open_issue(sandbox: str, repo: str, title: str = "Fix the cart") -> int:
    """Open an issue on the sandbox (no label: the tests publish the approval themselves); its number."""
    answer = httpx.post(f"{sandbox}/_sandbox/repos/{repo}/issues", json={"title": title})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["number"])


def commit(sandbox: str, repo: str, files: dict[str, str]) -> None:
    """Commit `files` to the default branch, as a maintainer fixing the config would."""
    answer = httpx.post(f"{sandbox}/_sandbox/repos/{repo}/commits", json={"branch": "main", "files": files})
    assert answer.status_code == 201, answer.text
