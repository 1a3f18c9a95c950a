"""A scripted Anthropic Messages API on a loopback port, for driving the real Claude Code CLI offline.

It answers `POST /v1/messages` the way the API streams (SSE: message_start with the input usage,
content_block_start/delta/stop, message_delta with the output usage and stop reason, message_stop): a
`Shell` step as a `Bash` tool_use, a `Say` step as text with `end_turn`. Every request is kept for assertions.
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
class FakeAnthropic:
    """The fake's script and what it was asked; `url` is set while it serves (use as ANTHROPIC_BASE_URL)."""

    script: list[Step] = field(default_factory=lambda: [Say("Done.")])
    by_prompt: list[tuple[str, list[Step]]] = field(default_factory=list)
    """Scripts for prompts containing a marker (the first marker found wins); `script` answers the others."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def app(self) -> Starlette:
        """The ASGI app serving this script."""
        return Starlette(routes=[
            Route("/v1/messages", self._messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", self._count_tokens, methods=["POST"]),
            Route("/{path:path}", self._anything_else, methods=["GET", "HEAD"]),
        ])

    def step_for(self, body: dict[str, Any]) -> Step:
        """The script step answering a request: how many tool results follow the latest prompt picks it."""
        messages = body.get("messages", [])
        replies = 0
        # Walk back over (assistant reply, tool results) pairs; the CLI may add text beside a tool result.
        while len(messages) >= 2 * replies + 2 and _has_tool_result(messages[-1 - 2 * replies]):
            replies += 1
        prompt = _latest_prompt(messages)
        script = next((steps for marker, steps in self.by_prompt if marker in prompt), self.script)
        return script[min(replies, len(script) - 1)]

    async def _messages(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        step = self.step_for(body)
        # Unique across fakes: a resumed session holds the ids of earlier runs, and a repeated tool id breaks it.
        message_id = f"msg_{uuid.uuid4().hex}"
        model = str(body.get("model", "claude-sonnet-4-5"))
        if not body.get("stream"):
            return JSONResponse(_message(message_id, model, step))
        return StreamingResponse(_stream(message_id, model, step), media_type="text/event-stream")

    async def _count_tokens(self, request: Request) -> Response:
        return JSONResponse({"input_tokens": 100})

    async def _anything_else(self, request: Request) -> Response:
        # Reachability probes (HEAD / of older versions): answer, do not fail the run.
        return Response(status_code=200)


def _latest_prompt(messages: list[dict[str, Any]]) -> str:
    """The text of the latest user message that is a prompt (not tool results)."""
    for message in reversed(messages):
        content = message.get("content")
        if message.get("role") != "user" or _has_tool_result(message):
            continue
        if isinstance(content, str):
            return content
        return "\n".join(block.get("text", "") for block in content or [] if isinstance(block, dict))
    return ""


def _has_tool_result(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return message.get("role") == "user" and isinstance(content, list) and any(
        block.get("type") == "tool_result" for block in content)


def _usage(tokens: Tokens, *, output: int) -> dict[str, int]:
    return {"input_tokens": tokens.input, "cache_creation_input_tokens": tokens.cache_write,
            "cache_read_input_tokens": tokens.cache_read, "output_tokens": output}


def _block(message_id: str, step: Step) -> dict[str, Any]:
    if isinstance(step, Shell):
        return {"type": "tool_use", "id": f"toolu_{message_id[4:]}", "name": "Bash",
                "input": {"command": step.command, "description": "Run the scripted command"}}
    return {"type": "text", "text": step.text}


def _message(message_id: str, model: str, step: Step) -> dict[str, Any]:
    return {"id": message_id, "type": "message", "role": "assistant", "model": model,
            "content": [_block(message_id, step)], "stop_reason": "tool_use" if isinstance(step, Shell) else "end_turn",
            "stop_sequence": None, "usage": _usage(step.tokens, output=step.tokens.output)}


async def _stream(message_id: str, model: str, step: Step) -> AsyncIterator[bytes]:
    start: dict[str, Any] = {"id": message_id, "type": "message", "role": "assistant", "model": model,
                             "content": [], "stop_reason": None, "stop_sequence": None,
                             "usage": _usage(step.tokens, output=1)}
    yield _event("message_start", {"type": "message_start", "message": start})
    block = _block(message_id, step)
    if isinstance(step, Shell):
        opening = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    else:
        opening = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": step.text}
    yield _event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": opening})
    yield _event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
    yield _event("content_block_stop", {"type": "content_block_stop", "index": 0})
    stop_reason = "tool_use" if isinstance(step, Shell) else "end_turn"
    yield _event("message_delta", {"type": "message_delta",
                                   "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                   "usage": {"output_tokens": step.tokens.output}})
    yield _event("message_stop", {"type": "message_stop"})


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


@contextlib.contextmanager
def fake_anthropic(script: list[Step] | None = None) -> Iterator[FakeAnthropic]:
    """Serve a FakeAnthropic on a loopback port for the block."""
    fake = FakeAnthropic(script=script or [Say("Done.")])
    with serving(fake.app()) as url:
        fake.url = url
        yield fake
