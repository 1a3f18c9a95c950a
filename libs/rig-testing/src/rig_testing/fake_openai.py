"""A scripted OpenAI Responses API on a loopback port, for driving the real Codex CLI offline.

It answers `POST /v1/responses` as SSE (response.created, response.output_item.added, output_text deltas,
response.output_item.done, response.completed with usage): a `Shell` step as an `exec_command` function call,
a `Say` step as an assistant message. Usage follows OpenAI's convention: cached (and cache-written) tokens are
counted inside `input_tokens` and repeated in `input_tokens_details`.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from rig_testing.loopback import serving
from rig_testing.model_script import Say, Shell, Step, Tokens


@dataclass
class FakeOpenAI:
    """The fake's script and what it was asked; `url` is set while it serves (its API base is `url + "/v1"`)."""

    script: list[Step] = field(default_factory=lambda: [Say("Done.")])
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def app(self) -> Starlette:
        """The ASGI app serving this script."""
        return Starlette(routes=[
            Route("/v1/responses", self._responses, methods=["POST"]),
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/{path:path}", self._anything_else, methods=["GET", "HEAD", "POST"]),
        ])

    def step_for(self, body: dict[str, Any]) -> Step:
        """The script step answering a request: the tool outputs since the latest user message pick it."""
        replies = 0
        for item in reversed(body.get("input", [])):
            if item.get("type") == "function_call_output":
                replies += 1
            elif item.get("type", "message") == "message" and item.get("role") == "user":
                break
        return self.script[min(replies, len(self.script) - 1)]

    async def _responses(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        step = self.step_for(body)
        return StreamingResponse(_stream(str(body.get("model", "")), step), media_type="text/event-stream")

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": []})

    async def _anything_else(self, request: Request) -> Response:
        return JSONResponse({"error": {"message": f"the fake does not serve {request.url.path}"}}, status_code=404)


def _usage(tokens: Tokens) -> dict[str, Any]:
    total_input = tokens.input + tokens.cache_read + tokens.cache_write
    return {"input_tokens": total_input,
            "input_tokens_details": {"cached_tokens": tokens.cache_read, "cache_write_tokens": tokens.cache_write},
            "output_tokens": tokens.output, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": total_input + tokens.output}


def _item(step: Step) -> dict[str, Any]:
    if isinstance(step, Shell):
        return {"type": "function_call", "id": f"fc_{uuid.uuid4().hex}", "call_id": f"call_{uuid.uuid4().hex}",
                "name": "exec_command", "arguments": json.dumps({"cmd": step.command}), "status": "completed"}
    return {"type": "message", "id": f"msg_{uuid.uuid4().hex}", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": step.text, "annotations": []}]}


async def _stream(model: str, step: Step) -> AsyncIterator[bytes]:
    response_id = f"resp_{uuid.uuid4().hex}"
    base = {"id": response_id, "object": "response", "model": model, "output": []}
    yield _event({"type": "response.created", "response": {**base, "status": "in_progress"}})
    item = _item(step)
    opening = {**item, "status": "in_progress"}
    if isinstance(step, Say):
        opening["content"] = []
    yield _event({"type": "response.output_item.added", "output_index": 0, "item": opening})
    if isinstance(step, Say):
        yield _event({"type": "response.output_text.delta", "item_id": item["id"], "output_index": 0,
                      "content_index": 0, "delta": step.text})
    yield _event({"type": "response.output_item.done", "output_index": 0, "item": item})
    yield _event({"type": "response.completed",
                  "response": {**base, "status": "completed", "output": [item], "usage": _usage(step.tokens)}})


def _event(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode()


@contextlib.contextmanager
def fake_openai(script: list[Step] | None = None) -> Iterator[FakeOpenAI]:
    """Serve a FakeOpenAI on a loopback port for the block."""
    fake = FakeOpenAI(script=script or [Say("Done.")])
    with serving(fake.app()) as url:
        fake.url = url
        yield fake
