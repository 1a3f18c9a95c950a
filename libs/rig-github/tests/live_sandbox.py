"""The sandbox (services/sandbox, the GitHub stand-in every test uses) as these tests drive it: its own process
with a fresh RIG_DATA_DIR, its Apps, its control API (repositories, issues, pushes, checks, faults, the request
journal), a reader's token for looking at what happened, and a webhook receiver it delivers to.

A plain module, imported by the tests and conftest by name.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization

from rig_github import GitHubSettings, Role

TOKEN_TTL_S = 2
"""Lifetime of the short-lived sandbox's installation tokens (GitHub's: an hour)."""
READER = "observer"
"""The sandbox user whose personal access token the tests read GitHub with (not one of the clients under test)."""


def fingerprint(credential: str) -> str:
    """How the sandbox's request journal names a credential (`credential_sha256`)."""
    return hashlib.sha256(credential.encode()).hexdigest()[:16]


@dataclass
class Receiver:
    """The App's webhook endpoint: answers 200, or 503 `oops` to the (repository, action) pairs in `refusing`."""

    refusing: set[tuple[str, str]] = field(default_factory=set)
    received: list[tuple[str, str, int]] = field(default_factory=list)
    """(X-GitHub-Delivery, action, status answered) of every delivery, in arrival order."""
    url: str = ""


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """Serve a webhook receiver in a thread for the block."""
    receiver = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            about = ((payload.get("repository") or {}).get("full_name", ""), payload.get("action") or "")
            status, body = (503, b"oops") if about in receiver.refusing else (200, b"ok")
            receiver.received.append((self.headers.get("X-GitHub-Delivery", ""), about[1], status))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/github"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class LiveSandbox:
    """A running sandbox: its URL, its Apps by role, the reader's token, and its webhook receiver (if any)."""

    url: str
    apps: dict[Role, dict[str, Any]]
    reader_token: str
    receiver: Receiver | None = None

    @classmethod
    def at(cls, url: str, receiver: Receiver | None = None) -> LiveSandbox:
        """The sandbox at `url`, its Apps read from `GET /_sandbox/apps` and a reader made for it."""
        apps = {Role(app["role"]): app for app in httpx.get(f"{url}/_sandbox/apps").json()}
        httpx.post(f"{url}/_sandbox/users", json={"login": READER}).raise_for_status()
        token = httpx.post(f"{url}/_sandbox/users/{READER}/tokens").json()["token"]
        return cls(url, apps, token, receiver)

    def private_key(self, role: Role) -> str:
        """The PEM private key of a role's App, from the key file the sandbox wrote."""
        return Path(self.apps[role]["key_path"]).read_text()

    def public_key(self, role: Role) -> str:
        """The PEM public key of a role's App (the one the sandbox verifies its JWTs with)."""
        key = serialization.load_pem_private_key(self.private_key(role).encode(), password=None)
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def settings(self, **overrides: Any) -> GitHubSettings:
        """Client settings for this sandbox with every role's App, quick retries and no request throttle."""
        values: dict[str, Any] = {
            "github_api_url": self.url, "github_retry_total": 3, "github_retry_backoff_factor": 0.2,
            "github_retry_max_wait": 10, "github_secondary_rate_wait": 1, "github_seconds_between_requests": 0,
            "github_seconds_between_writes": 0, "github_threads": 4,
        }
        for role, app in self.apps.items():
            values |= {f"github_{role}_app_id": app["id"], f"github_{role}_installation_id": app["installation_id"],
                       f"github_{role}_private_key": self.private_key(role)}
        return GitHubSettings(**(values | overrides))

    async def call(self, method: str, path: str, *, token: str | None = None, expect: int | None = None,
                   **kwargs: Any) -> Any:
        """One request (control API without `token`); its JSON, after checking the status when `expect` is set."""
        headers = {"Authorization": f"token {token}"} if token else {}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30) as http:
            answer = await http.request(method, path, **kwargs)
        if expect is not None:
            assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    async def read(self, path: str) -> Any:
        """GET a GitHub route as the reader (what anyone looking at GitHub would see)."""
        return await self.call("GET", path, token=self.reader_token, expect=200)

    async def token(self, role: Role) -> str:
        """A fresh installation token of a role's App, minted with its JWT."""
        app, now = self.apps[role], int(time.time())
        signed = jwt.encode({"iat": now - 30, "exp": now + 300, "iss": str(app["id"])}, self.private_key(role),
                            algorithm="RS256")
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            minted = await http.post(f"/app/installations/{app['installation_id']}/access_tokens",
                                     headers={"Authorization": f"Bearer {signed}"})
        assert minted.status_code == 201, minted.text
        return str(minted.json()["token"])

    async def new_repo(self, files: dict[str, str] | None = None, **extra: Any) -> str:
        """A repository of this test's own (`o/r-<random>`) with one first commit; its full name."""
        name = f"r-{uuid.uuid4().hex[:10]}"
        body = {"owner": "o", "name": name, "files": files or {"README.md": "# r\n"}, **extra}
        await self.call("POST", "/_sandbox/repos", json=body, expect=201)
        return f"o/{name}"

    async def push(self, repo: str, branch: str, files: dict[str, str], *, start_from: str | None = None) -> str:
        """Commit `files` on `branch` (made from `start_from`, default the default branch) and push; the new SHA."""
        body: dict[str, Any] = {"branch": branch, "files": files} | ({"from": start_from} if start_from else {})
        return str((await self.call("POST", f"/_sandbox/repos/{repo}/commits", json=body, expect=201))["sha"])

    async def open_issue(self, repo: str, title: str = "An issue") -> int:
        """Open an issue as the maintainer; its number."""
        return int((await self.call("POST", f"/_sandbox/repos/{repo}/issues", json={"title": title},
                                    expect=201))["number"])

    async def open_pull(self, repo: str, head: str, *, by: Role, title: str = "A change", body: str = "") -> int:
        """Open a pull request from `head` as a role's App bot; its number."""
        opened = await self.call("POST", f"/repos/{repo}/pulls", token=await self.token(by), expect=201,
                                 json={"title": title, "head": head, "base": "main", "body": body})
        return int(opened["number"])

    async def arm(self, **spec: Any) -> dict[str, Any]:
        """Arm a fault (`POST /_sandbox/faults`); the armed fault."""
        return dict(await self.call("POST", "/_sandbox/faults", json=spec, expect=201))

    async def fault(self, fault_id: int) -> dict[str, Any]:
        """An armed fault with what it did."""
        return dict(await self.call("GET", f"/_sandbox/faults/{fault_id}", expect=200))

    def clear_faults(self) -> None:
        """Disarm every fault (blocking: for fixtures)."""
        httpx.delete(f"{self.url}/_sandbox/faults").raise_for_status()

    async def requests(self, *, since: float, method: str | None = None, path: str | None = None,
                       app: str | None = None) -> list[dict[str, Any]]:
        """The requests the sandbox answered since `since` (epoch s), by method, path pattern and App, in order."""
        params = {"since": since} | ({"method": method} if method else {}) | ({"path": path} if path else {})
        found = await self.call("GET", "/_sandbox/requests", params=params, expect=200)
        return [entry for entry in found if app is None or entry["app"] == app]

    async def tokens_minted(self, role: Role, since: float) -> list[dict[str, Any]]:
        """The installation token requests of a role's App since `since` that got a token (201)."""
        minted = await self.requests(since=since, method="POST", path="/app/installations/*/access_tokens",
                                     app=role.value)
        return [entry for entry in minted if entry["status"] == 201]
