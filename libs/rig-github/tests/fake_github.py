"""A small GitHub of the tests' own: real HTTP (FastAPI under uvicorn), only the paths these tests need.

It checks what GitHub checks (the App JWT's RS256 signature with the App's public key, installation tokens and
their expiry) and misbehaves on demand by repository name: `flaky*` answers 502 twice, `secondary*` a secondary
rate limit with `Retry-After: 1`, `primary*` a primary rate limit resetting 1-2 s ahead, `locked*` one resetting
in an hour, `down*` 503 always, `slow*` answers after 0.3 s.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
import zlib
from datetime import UTC, datetime
from typing import Any

import jwt
import uvicorn
from fake_github_routes import add_issue_routes, add_pull_routes
from fake_github_state import FakeState, Seen, error
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def _app_of_jwt(state: FakeState, header: str) -> int | None:
    """The App whose key verifies this Bearer JWT, with GitHub's rules on its claims; None when refused."""
    if not header.startswith("Bearer "):
        return None
    token = header.removeprefix("Bearer ")
    try:
        app_id = int(jwt.decode(token, options={"verify_signature": False})["iss"])
        claims = jwt.decode(token, state.app_keys[app_id], algorithms=["RS256"],
                            options={"require": ["iat", "exp", "iss"]})
    except (jwt.PyJWTError, KeyError, ValueError):
        return None
    if claims["iat"] > time.time() or claims["exp"] - claims["iat"] > 600:
        return None
    state.jwt_claims.append(claims)
    return app_id


def _app_of_token(state: FakeState, header: str) -> int | None:
    """The App (or PAT owner) behind an installation token that has not expired; None when refused."""
    token = header.removeprefix("token ").removeprefix("Bearer ")
    if token in state.personal_tokens:
        return state.personal_tokens[token]
    app_id, expires = state.tokens.get(token, (0, 0.0))
    return app_id if time.time() < expires else None


def _trouble(name: str, hits: int) -> JSONResponse | None:
    """The misbehaviour a repository's name asks for, on its `hits`-th request."""
    if name.startswith("flaky") and hits <= 2:
        return error(502, "Server Error")
    if name.startswith("down"):
        return error(503, "Service Unavailable")
    if name.startswith("secondary") and hits == 1:
        return error(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                      {"Retry-After": "1"})
    if name.startswith(("primary", "locked")) and hits == 1:
        reset = int(time.time()) + (2 if name.startswith("primary") else 3600)
        return error(403, "API rate limit exceeded for installation ID 1.",
                      {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
    return None


def build_app(state: FakeState) -> FastAPI:
    """The FastAPI app of the fake GitHub, over `state`."""
    app = FastAPI()

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Any:
        header = request.headers.get("authorization", "")
        seen = Seen(time.time(), request.method, request.url.path, header.split(" ")[-1])
        state.seen.append(seen)
        as_app = request.url.path.startswith("/app/")
        caller = _app_of_jwt(state, header) if as_app else _app_of_token(state, header)
        if caller is None:
            response: Any = error(401, "A JSON web token could not be decoded" if as_app else "Bad credentials")
        else:
            request.state.app_id = caller
            state.in_flight += 1
            state.most_in_flight = max(state.most_in_flight, state.in_flight)
            try:
                response = await call_next(request)
            finally:
                state.in_flight -= 1
        seen.status = response.status_code
        return response

    @app.post("/app/installations/{installation}/access_tokens", status_code=201)
    async def access_token(installation: int, request: Request) -> Any:
        if state.installations.get(installation) != request.state.app_id:
            return error(404, "Not Found")
        token = f"ghs_{len(state.tokens) + 1}_{installation}"
        expires = int(time.time()) + state.token_ttl
        state.tokens[token] = (request.state.app_id, float(expires))
        return {"token": token, "expires_at": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "permissions": {}, "repository_selection": "all"}

    @app.get("/repos/{owner}/{name}")
    async def repo(owner: str, name: str, request: Request) -> Any:
        state.hits[f"{owner}/{name}"] += 1
        if (trouble := _trouble(name, state.hits[f"{owner}/{name}"])) is not None:
            return trouble
        if name.startswith("slow"):
            await asyncio.sleep(0.3)
        base = str(request.base_url).rstrip("/")
        return {"id": zlib.crc32(name.encode()), "name": name, "full_name": f"{owner}/{name}", "private": False,
                "default_branch": "main", "url": f"{base}/repos/{owner}/{name}",
                "html_url": f"https://github.example/{owner}/{name}", "owner": {"login": owner}}

    @app.get("/repos/{owner}/{name}/contents/{path:path}")
    async def contents(owner: str, name: str, path: str) -> Any:
        text = state.files.get((f"{owner}/{name}", path))
        if text is None:
            return error(404, "Not Found")
        blob = hashlib.sha1(f"blob {len(text.encode())}\0{text}".encode()).hexdigest()  # git's blob id
        return {"type": "file", "encoding": "base64", "path": path, "name": path.rsplit("/", 1)[-1], "sha": blob,
                "size": len(text), "content": base64.b64encode(text.encode()).decode()}

    add_issue_routes(app, state)
    add_pull_routes(app, state)
    return app


class FakeGitHub:
    """The fake GitHub served by uvicorn in a thread of the test process, on a free port."""

    def __init__(self) -> None:
        self.state = FakeState()
        config = uvicorn.Config(build_app(self.state), host="127.0.0.1", port=0, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="fake-github", daemon=True)

    @property
    def url(self) -> str:
        """Base URL, as `RIG_GITHUB_API_URL` would give it."""
        sockets = self.server.servers[0].sockets
        return f"http://127.0.0.1:{sockets[0].getsockname()[1]}"

    def start(self) -> FakeGitHub:
        """Serve, and return once the server accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake GitHub did not start")
            time.sleep(0.01)
        return self

    def reset(self) -> None:
        """Forget everything but the Apps, between tests."""
        self.state.clear()

    def stop(self) -> None:
        """Stop serving."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
