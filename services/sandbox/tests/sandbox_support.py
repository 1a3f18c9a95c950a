"""Helpers of the sandbox tests (a plain module, never imported from conftest): a real sandbox served on a
free port, App JWTs and tokens, git run as a person would run it, and GitHub's schemas."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import uvicorn

from rig_sandbox.app import create_app
from rig_sandbox.settings import SandboxSettings
from rig_sandbox.sink import RecordingSink
from rig_testing.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = next((p for p in (REPO_ROOT.parent / "shared", Path("/work/shared")) if p.is_dir()), REPO_ROOT / "shared")
OPENAPI = SHARED / "fixtures" / "github-rest-openapi-subset.json"


@dataclass
class Sandbox:
    """A sandbox serving on a local port, with the events it emitted."""

    url: str
    data_dir: Path
    events: RecordingSink

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        """An HTTP client of the sandbox, authenticated with `token` when given."""
        headers = {"Accept": "application/vnd.github+json"}
        if token:
            headers["Authorization"] = f"token {token}"
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    async def apps(self) -> dict[str, dict[str, Any]]:
        """The Apps by role, from the control endpoint."""
        async with self.client() as client:
            return {app["role"]: app for app in (await client.get("/_sandbox/apps")).json()}

    async def token(self, role: str) -> str:
        """A fresh installation token of the App of `role`, minted with its JWT as a client would."""
        app = (await self.apps())[role]
        async with self.client() as client:
            answer = await client.post(f"/app/installations/{app['installation_id']}/access_tokens",
                                       headers={"Authorization": f"Bearer {app_jwt(app)}"})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["token"])


def app_jwt(app: dict[str, Any], *, lifetime_s: int = 540, issued_ago_s: int = 30) -> str:
    """An App JWT as GitHub wants it: RS256, `iss` the App id, `iat` a little in the past, `exp` ≤ 10 min."""
    now = int(time.time())
    key = Path(app["key_path"]).read_text()
    return jwt.encode({"iat": now - issued_ago_s, "exp": now + lifetime_s, "iss": str(app["id"])}, key,
                      algorithm="RS256")


def settings_for(data_dir: Path, url: str, **values: Any) -> SandboxSettings:
    """Sandbox settings for a test: its own data folder, its URL, no demo unless asked."""
    values.setdefault("sandbox_demo", False)
    return SandboxSettings(data_dir=str(data_dir), sandbox_public_url=url, **values)


@contextlib.asynccontextmanager
async def serving(data_dir: Path, **values: Any) -> AsyncIterator[Sandbox]:
    """Serve a sandbox in this process (uvicorn on a free port) for the block."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    events = RecordingSink()
    app = create_app(settings_for(data_dir, url, **values), observers=[events])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           access_log=False, ws="none"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield Sandbox(url, data_dir, events)
    finally:
        server.should_exit = True
        await task


async def create_repo(sandbox: Sandbox, full_name: str, files: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Create a repository through the control endpoint."""
    owner, name = full_name.split("/")
    async with sandbox.client() as client:
        answer = await client.post("/_sandbox/repos", json={"owner": owner, "name": name, "files": files, **extra})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def git_env(home: Path) -> dict[str, str]:
    """An environment for git as a person runs it: a home of its own, an identity, no prompts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "Dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com"}
    return env


async def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run git in `cwd` (asynchronously: the sandbox may serve in this very event loop)."""
    os.makedirs(cwd, exist_ok=True)
    process = await asyncio.create_subprocess_exec("git", *args, cwd=cwd, env=git_env(cwd.parent),
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if check and process.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({process.returncode}): {err.decode()}")
    return out.decode().strip()


def clone_url(sandbox: Sandbox, full_name: str, token: str) -> str:
    """The clone URL with an installation token as GitHub documents it (`x-access-token:<token>@`)."""
    return sandbox.url.replace("http://", f"http://x-access-token:{token}@") + f"/{full_name}.git"


async def wait_for(check: Any, within_s: float = 10.0, every_s: float = 0.05) -> Any:
    """Poll the coroutine function `check` until it returns something truthy."""
    deadline = time.monotonic() + within_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within_s} s: {check}")
        await asyncio.sleep(every_s)


def openapi() -> dict[str, Any]:
    """GitHub's description of the operations the sandbox answers."""
    loaded: dict[str, Any] = json.loads(OPENAPI.read_text())
    return loaded


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path template, operation) for each operation of the subset."""
    for path, methods in openapi()["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, operation


def json_schema(schema: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes a `null` alternative."""
    if isinstance(schema, list):
        return [json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        if "type" in converted:
            kind = converted["type"]
            converted["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted
