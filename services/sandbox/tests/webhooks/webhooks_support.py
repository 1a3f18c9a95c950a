"""Helpers of the webhook tests: a real receiving server, the sandbox's deliveries API, GitHub's schemas.

A plain module, imported by name from the test files (which put this folder on sys.path).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse

from rig_sandbox.webhooks import Dispatcher, deliveries_router

FIXTURES = Path("/work/shared/fixtures")
OPENAPI = FIXTURES / "github-rest-openapi-subset.json"
CORPUS = FIXTURES / "github-webhooks" / "api.github.com.json"
SECRET = "test-webhook-secret"
APP_JWT = "test-app-jwt"


@dataclass(frozen=True)
class Received:
    """One request the receiver got, with its raw bytes and whether its signatures verified."""

    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    sha1_ok: bool

    @property
    def guid(self) -> str:
        return self.headers["x-github-delivery"]

    @property
    def payload(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


@dataclass
class Receiver:
    """A webhook receiver as ingest will be: checks X-Hub-Signature-256 against the raw body, records all."""

    secret: str = SECRET
    answer: int = 200
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/webhooks/github")
        async def hook(request: Request) -> Response:
            body = await request.body()
            sha256 = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            sha1 = "sha1=" + hmac.new(self.secret.encode(), body, hashlib.sha1).hexdigest()
            signature_ok = hmac.compare_digest(sha256, request.headers.get("x-hub-signature-256", ""))
            sha1_ok = hmac.compare_digest(sha1, request.headers.get("x-hub-signature", ""))
            self.received.append(Received(dict(request.headers), body, signature_ok, sha1_ok))
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if not signature_ok:
                return PlainTextResponse("bad signature", status_code=401)
            return PlainTextResponse("ok" if self.answer < 300 else "receiver broken", status_code=self.answer)

        return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free port of this machine; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", ws="none"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def require_app_jwt(authorization: str | None = Header(default=None)) -> None:
    """The test's stand-in for the App JWT check: a fixed bearer token."""
    if authorization != f"Bearer {APP_JWT}":
        raise HTTPException(status_code=401, detail="A JSON web token could not be decoded")


@asynccontextmanager
async def sandbox_api(dispatcher: Dispatcher) -> AsyncIterator[httpx.AsyncClient]:
    """A FastAPI app with the deliveries router, and a client of it holding the App's JWT."""
    app = FastAPI()
    app.include_router(deliveries_router(dispatcher, require_app_jwt))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {APP_JWT}", "Accept": "application/vnd.github+json"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as client:
        yield client


def corpus_payload(event: str, action: str) -> dict[str, Any]:
    """A real payload of GitHub's, preferring one that names an installation."""
    examples = [p for p in json.loads(CORPUS.read_text())[event] if p.get("action") == action]
    with_installation = [p for p in examples if p.get("installation")]
    chosen: dict[str, Any] = (with_installation or examples)[0]
    return chosen


def response_schema(path: str, method: str, code: str) -> dict[str, Any]:
    """GitHub's response schema of one operation, from the OpenAPI subset."""
    operation = json.loads(OPENAPI.read_text())["paths"][path][method]
    schema: dict[str, Any] = operation["responses"][code]["content"]["application/json"]["schema"]
    return schema


def assert_matches(instance: Any, schema: dict[str, Any]) -> None:
    """Validate against an OpenAPI 3.0 schema: with jsonschema when installed, else the checker below."""
    try:
        jsonschema = importlib.import_module("jsonschema")
    except ImportError:
        problems = _problems(instance, schema, "$")
        assert not problems, problems
    else:
        jsonschema.validate(instance, _to_json_schema(schema))


def _to_json_schema(schema: Any) -> Any:
    """OpenAPI's `nullable: true` is JSON Schema's `type: [..., "null"]`."""
    if isinstance(schema, list):
        return [_to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _to_json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable") and "type" in schema:
        converted["type"] = [schema["type"], "null"]
    return converted


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,), "integer": (int,),
    "number": (int, float),
}


def _problems(instance: Any, schema: dict[str, Any], where: str) -> list[str]:
    """A small OpenAPI 3.0 checker: type, nullable, required, properties, items, enum."""
    if instance is None:
        return [] if schema.get("nullable") or "type" not in schema else [f"{where}: null"]
    expected = schema.get("type")
    if expected is not None:
        wrong_bool = isinstance(instance, bool) and expected in {"integer", "number"}
        if wrong_bool or not isinstance(instance, _TYPES[expected]):
            return [f"{where}: {instance!r} is not {expected}"]
    if "enum" in schema and instance not in schema["enum"]:
        return [f"{where}: {instance!r} not in {schema['enum']}"]
    problems: list[str] = []
    if isinstance(instance, dict):
        problems += [f"{where}: missing {name}" for name in schema.get("required", []) if name not in instance]
        for name, sub in schema.get("properties", {}).items():
            if name in instance:
                problems += _problems(instance[name], sub, f"{where}.{name}")
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            problems += _problems(item, schema["items"], f"{where}[{index}]")
    return problems
