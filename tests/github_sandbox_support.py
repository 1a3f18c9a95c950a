"""Helpers of the GitHub sandbox cross tests (a plain module): the sandbox as its own process, the client
library pointed at it, a receiver that checks webhook signatures, a consumer that recovers lost deliveries
through the deliveries API, and git as a person runs it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

from rig_github import Delivery, GitHubClient, GitHubSettings, Role
from rig_supervisor.local import sandbox_env
from rig_testing.servers import free_port
from rig_testing.waiting import eventually

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (ROOT.parent / "shared", Path("/work/shared")) if p.is_dir()), ROOT / "shared")
SUBSET = SHARED / "fixtures" / "github-rest-openapi-subset.json"
"""GitHub's description of the REST operations rig-conductor uses."""
SECRET = "cross-tests-webhook-secret"
"""The secret the sandbox signs deliveries with and the receiver checks them with."""
CHAOS_SEED = 11
"""The seed the cross tests run the sandbox's delivery chaos with (it drops, duplicates and reorders)."""


@dataclass(frozen=True)
class Hook:
    """A webhook delivery the receiver accepted (its signature checked)."""

    event: str
    action: str | None
    guid: str
    payload: dict[str, Any]


@dataclass
class Receiver:
    """A webhook endpoint that checks X-Hub-Signature-256 and keeps what it accepted, in arrival order."""

    secret: str = SECRET
    answer: int = 200
    """The status to answer signed deliveries with; 500 makes them fail (nothing is kept)."""
    hooks: list[Hook] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    forged: int = 0
    url: str = ""

    def guids(self) -> set[str]:
        """Every GUID received at least once."""
        return {hook.guid for hook in self.hooks}

    def app(self) -> FastAPI:
        """The receiver's ASGI app."""
        app = FastAPI()

        @app.post("/webhooks/github")
        async def deliver(request: Request) -> Response:
            body = await request.body()
            signed = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(signed, request.headers.get("x-hub-signature-256", "")):
                self.forged += 1
                return Response(status_code=401)
            guid = request.headers["x-github-delivery"]
            if self.answer >= 300:
                self.refused.append(guid)
                return Response(status_code=self.answer)
            payload = json.loads(body)
            self.hooks.append(Hook(request.headers["x-github-event"], payload.get("action"), guid, payload))
            return Response(status_code=202)

        return app


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """Serve a receiver (uvicorn in this event loop, on a free port) for the block."""
    receiver = Receiver()
    port = free_port()
    receiver.url = f"http://127.0.0.1:{port}/webhooks/github"
    server = uvicorn.Server(uvicorn.Config(receiver.app(), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", access_log=False, ws="none"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


class Roles(NamedTuple):
    """One client library instance per role, each acting as its own App."""

    conductor: GitHubClient
    dev: GitHubClient
    review: GitHubClient


@dataclass
class Sandbox:
    """A sandbox process: its URL, its Apps by role, and an HTTP client of its control API."""

    url: str
    data_dir: Path
    apps: dict[str, dict[str, Any]]
    control: httpx.AsyncClient

    def settings(self) -> GitHubSettings:
        """Client settings pointing every role at this sandbox with its App (no throttle: it is local)."""
        values: dict[str, Any] = {}
        for role, app in self.apps.items():
            values |= {f"github_{role}_app_id": app["id"], f"github_{role}_installation_id": app["installation_id"],
                       f"github_{role}_private_key_file": Path(app["key_path"])}
        return GitHubSettings(github_api_url=self.url, github_seconds_between_requests=0,
                              github_seconds_between_writes=0, github_retry_backoff_factor=0.1,
                              github_retry_max_wait=5, **values)

    def env(self) -> dict[str, str]:
        """The environment of a service process using this sandbox: every role's App, no throttle, the webhook
        secret ingest checks, and missed-delivery sweeps every second."""
        return sandbox_env(self.url, list(self.apps.values())) | {
            "RIG_INGEST_WEBHOOK_SECRETS": json.dumps([SECRET]), "RIG_INGEST_SWEEP_INTERVAL_S": "1",
            "RIG_INGEST_SWEEP_RETRY_AFTER_S": "3"}

    @contextlib.asynccontextmanager
    async def roles(self) -> AsyncIterator[Roles]:
        """A client per role for the block, closed after it."""
        settings = self.settings()
        async with (GitHubClient(settings, Role.CONDUCTOR) as conductor, GitHubClient(settings, Role.DEV) as dev,
                    GitHubClient(settings, Role.REVIEW) as review):
            yield Roles(conductor, dev, review)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the control API (`/_sandbox…`), expecting 201."""
        answer = await self.control.post(f"/_sandbox{path}", json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def emitted(self) -> list[tuple[str, str | None]]:
        """(event, action) of every webhook event emitted, in emit order."""
        events = (await self.control.get("/_sandbox/events", params={"limit": 1000})).json()
        return [(event["event"], event["action"]) for event in events]

    def clone_url(self, full_name: str, token: str) -> str:
        """A clone URL carrying an installation token, as GitHub documents it."""
        return self.url.replace("http://", f"http://x-access-token:{token}@") + f"/{full_name}.git"


@contextlib.asynccontextmanager
async def sandbox_process(data_dir: Path, receiver: Receiver | None = None, **env: str) -> AsyncIterator[Sandbox]:
    """Run `python -m rig_service.serve sandbox --port P` with its data under `data_dir`, delivering to `receiver`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    variables = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")}
    variables |= {"RIG_DATA_DIR": str(data_dir), "RIG_SANDBOX_PUBLIC_URL": url, "RIG_LOG_LEVEL": "WARNING",
                  "RIG_SANDBOX_DEMO": "false", "RIG_SANDBOX_WEBHOOK_SECRET": SECRET, **env}
    if receiver is not None:
        variables["RIG_SANDBOX_WEBHOOK_URL"] = receiver.url
    log_path = _log_path(data_dir, port)
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rig_service.serve", "sandbox", "--port", str(port), cwd=ROOT, env=variables,
            stdout=log, stderr=asyncio.subprocess.STDOUT)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=10) as control:
                await eventually(lambda: _ready(control, process, log_path), within_s=30, what="sandbox ready")
                apps = {app["role"]: app for app in (await control.get("/_sandbox/apps")).json()}
                yield Sandbox(url, data_dir, apps, control)
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


def _log_path(data_dir: Path, port: int) -> Path:
    """Make the data folder; the sandbox's log goes next to it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir.parent / f"{data_dir.name}-sandbox-{port}.log"


async def _ready(control: httpx.AsyncClient, process: asyncio.subprocess.Process, log_path: Path) -> bool:
    if process.returncode is not None:
        raise RuntimeError(f"the sandbox exited with {process.returncode}; its log is {log_path}")
    with contextlib.suppress(httpx.HTTPError):
        return (await control.get("/readyz", timeout=1)).status_code == 200
    return False




async def git(cwd: Path, *args: str) -> str:
    """Run git in the existing folder `cwd` as a person would (own HOME and identity, no prompts)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"HOME": str(cwd.parent), "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "Dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com"}
    process = await asyncio.create_subprocess_exec("git", *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, f"git {' '.join(args)} failed ({process.returncode}): {err.decode()}"
    return out.decode().strip()


async def all_deliveries(client: GitHubClient) -> list[Delivery]:
    """Every delivery of the App's webhook, newest first, page by page through the deliveries API."""
    found: list[Delivery] = []
    cursor: str | None = None
    while True:
        page = await client.list_deliveries(per_page=100, cursor=cursor)
        found += page.deliveries
        if (cursor := page.next_cursor) is None:
            return found


@dataclass
class Consumer:
    """Waits for webhooks as a consumer does: what never arrives is found failed in the deliveries API and
    redelivered (once per GUID), as one recovers webhooks GitHub could not deliver."""

    receiver: Receiver
    client: GitHubClient
    redelivered: dict[str, Delivery] = field(default_factory=dict)

    async def receive(self, wanted: Callable[[Hook], bool], what: str, within_s: float = 30.0) -> Hook:
        """The first accepted delivery that is `wanted`, recovering lost deliveries while waiting."""
        async def found() -> Hook | None:
            hits = [hook for hook in self.receiver.hooks if wanted(hook)]
            if not hits:
                await self.recover()
            return hits[0] if hits else None

        hook: Hook = await eventually(found, within_s=within_s, what=what, every_s=0.2)
        return hook

    async def recover(self) -> None:
        """Redeliver every failed delivery whose GUID never arrived."""
        got = self.receiver.guids()
        for delivery in await all_deliveries(self.client):
            lost = delivery.status != "OK" and not delivery.redelivery and delivery.guid not in got
            if lost and delivery.guid not in self.redelivered:
                self.redelivered[delivery.guid] = delivery
                await self.client.redeliver(delivery.id)


async def settled(sandbox: Sandbox, client: GitHubClient, within_s: float = 30.0) -> list[Delivery]:
    """The deliveries once every emitted event has had its attempt and nothing moved for half a second."""
    async def attempted() -> list[Delivery] | None:
        first = await all_deliveries(client)
        if len({d.guid for d in first}) < len(await sandbox.emitted()):
            return None
        await asyncio.sleep(0.5)
        again = await all_deliveries(client)
        return again if [d.id for d in again] == [d.id for d in first] else None

    done: list[Delivery] = await eventually(attempted, within_s=within_s, what="every delivery attempted")
    return done


async def outsider_review(sandbox: Sandbox, repo: str, number: int, sha: str, event: str, body: str = "",
                          login: str = "mallory") -> dict[str, Any]:
    """A review by someone who is neither a member nor a collaborator (author_association NONE), with a PAT."""
    await sandbox.control.post("/_sandbox/users", json={"login": login, "collaborator": False})
    token = (await sandbox.control.post(f"/_sandbox/users/{login}/tokens")).json()["token"]
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=30,
                                 headers={"Authorization": f"token {token}"}) as client:
        answer = await client.post(f"/repos/{repo}/pulls/{number}/reviews",
                                   json={"event": event, "body": body, "commit_id": sha})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@contextlib.asynccontextmanager
async def sandbox_with_app(data_dir: Path) -> AsyncIterator[Sandbox]:
    """A sandbox process holding `acme/app` with one README: what a lone agent under test works on."""
    async with sandbox_process(data_dir) as started:
        await started.post("/repos", {"owner": "acme", "name": "app", "files": {"README.md": "# app\n"}})
        yield started
