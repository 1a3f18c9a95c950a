"""Clone, fetch and push over git's smart HTTP protocol at `{base}/{owner}/{repo}.git`.

`git http-backend` runs as a CGI subprocess per request: the request body streams into it and, for fetches,
its answer streams back. Callers authenticate as on GitHub, with HTTP Basic and a token as the password
(`x-access-token:<installation token>`, or any user name with a PAT); without one the answer is 401 with a
Basic challenge, so git asks its credential helpers. A push runs under the repository's lock with the refs
read before and after, so every moved ref becomes a `push` event (and `synchronize` for a pull request's head)
before git hears that the push succeeded.
"""

# No `from __future__ import annotations`: FastAPI must see the route signatures' local Annotated aliases.

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse

from rig_sandbox.actions.pushes import refs_changed
from rig_sandbox.auth import Auth, Identity, credential
from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError
from rig_sandbox.git.runner import ZERO_SHA, git_environment
from rig_sandbox.records import Repo

SERVICES = ("git-upload-pack", "git-receive-pack")
_CHUNK = 65536


def git_http_router(sandbox: Sandbox, auth: Auth) -> APIRouter:
    """The smart HTTP routes (registered last: `/{owner}/{repo}.git/…` must not shadow the API)."""
    router = APIRouter(tags=["git"])

    @router.api_route("/{owner}/{name}.git/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
    async def smart_http(owner: str, name: str, rest: str, request: Request) -> Response:
        repo = sandbox.store.repo(owner, name)
        if repo is None:
            return PlainTextResponse("Repository not found.\n", status_code=404)
        service = request.query_params.get("service") if rest == "info/refs" else rest
        if service not in SERVICES or (rest != "info/refs" and request.method != "POST"):
            return PlainTextResponse("Not found.\n", status_code=404)
        identity = _identify(auth, request)
        if identity is None:
            return PlainTextResponse("Authentication required.\n", status_code=401,
                                     headers={"WWW-Authenticate": 'Basic realm="GitHub"'})
        try:
            identity.check_repo(repo)
        except GitHubError:
            return PlainTextResponse("Repository not found.\n", status_code=404)
        env = _cgi_environment(sandbox, repo, rest, request, identity)
        if rest == "git-receive-pack":
            return await _push(sandbox, repo, identity, request, env)
        backend = await _start(request, env)
        return StreamingResponse(backend.answer(), status_code=backend.status, headers=backend.headers)

    return router


def _identify(auth: Auth, request: Request) -> Identity | None:
    token = credential(request)
    if token is None:
        return None
    try:
        return auth.identify(token)
    except GitHubError:
        return None


def _cgi_environment(sandbox: Sandbox, repo: Repo, rest: str, request: Request, identity: Identity) -> dict[str, str]:
    git_dir: Path = sandbox.git_dir(repo.owner, repo.name)
    env = {"GIT_PROJECT_ROOT": str(git_dir.parent.parent), "GIT_HTTP_EXPORT_ALL": "1",
           "PATH_INFO": f"/{git_dir.parent.name}/{git_dir.name}/{rest}", "REQUEST_METHOD": request.method,
           "QUERY_STRING": request.url.query, "CONTENT_TYPE": request.headers.get("content-type", ""),
           "REMOTE_USER": identity.account.login, "REMOTE_ADDR": request.client.host if request.client else ""}
    for header, variable in (("content-length", "CONTENT_LENGTH"), ("content-encoding", "HTTP_CONTENT_ENCODING"),
                             ("git-protocol", "GIT_PROTOCOL")):
        if header in request.headers:
            env[variable] = request.headers[header]
    return git_environment(env)


@dataclass
class Backend:
    """A running `git http-backend`: the task feeding it the request, and the status and headers it answered."""

    process: asyncio.subprocess.Process
    feeding: asyncio.Task[None]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    async def answer(self) -> AsyncIterator[bytes]:
        """The body of the backend's answer, chunk by chunk; the process is reaped at the end."""
        assert self.process.stdout is not None
        finished = False
        try:
            while chunk := await self.process.stdout.read(_CHUNK):
                yield chunk
            finished = True
        finally:
            # Kill only a backend whose client went away: killing one that is exiting on its own would reap it
            # (Popen.send_signal polls first) behind asyncio's child watcher.
            if not finished and self.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
            await self.process.wait()
            await self.feeding


async def _start(request: Request, env: dict[str, str]) -> Backend:
    """Start `git http-backend`, stream the request into it, and read its CGI headers."""
    process = await asyncio.create_subprocess_exec(
        "git", "http-backend", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=env)
    backend = Backend(process, asyncio.create_task(_feed(request, process)))
    assert process.stdout is not None
    while True:
        line = (await process.stdout.readline()).decode(errors="replace").rstrip("\r\n")
        if not line:
            break
        key, _, value = line.partition(":")
        if key.lower() == "status":
            backend.status = int(value.split()[0])
        else:
            backend.headers[key] = value.strip()
    return backend


async def _feed(request: Request, process: asyncio.subprocess.Process) -> None:
    assert process.stdin is not None
    try:
        async for chunk in request.stream():
            process.stdin.write(chunk)
            await process.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the backend stopped reading: its answer says why
    finally:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.close()


async def _push(sandbox: Sandbox, repo: Repo, identity: Identity, request: Request, env: dict[str, str]) -> Response:
    """Run receive-pack under the repository's lock; turn moved refs into events before answering."""
    git = sandbox.repository(repo)
    async with sandbox.lock(repo):
        before = await git.refs()
        backend = await _start(request, env)
        body = b"".join([chunk async for chunk in backend.answer()])
        after = await git.refs()
        moved = {ref: (before.get(ref, ZERO_SHA), after.get(ref, ZERO_SHA))
                 for ref in sorted(set(before) | set(after)) if before.get(ref) != after.get(ref)}
        await refs_changed(sandbox, repo, moved, identity.account)
    return Response(body, status_code=backend.status, headers=backend.headers)
