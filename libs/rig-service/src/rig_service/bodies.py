"""Request bodies: one size limit for every route (services and the edge), JSON parsed safely, after the caller.

`BodyLimit` is a pure ASGI middleware: a request whose Content-Length is over the route's limit is answered 413
at once, without calling the app or reading a byte of the body; a body of unknown length (chunked) is counted
as the app reads it and answered 413 the moment it passes the limit. The limit is `RIG_MAX_BODY_BYTES`, and
`RIG_BODY_LIMITS` raises or lowers it per path prefix (GitHub's webhooks may be 25 MB).

`json_value` turns bytes into JSON or a 400 (deep nesting included, which would otherwise be a RecursionError
and a 500); `json_body` is a FastAPI dependency that reads and validates a body only after the route's
authentication dependency has passed, so a caller without valid credentials gets its 401 before any body read.
"""

# No `from __future__ import annotations`: FastAPI reads `json_body`'s dependency signature at runtime.

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a body may have; ours are a few levels deep, GitHub's about ten."""

Model = TypeVar("Model", bound=BaseModel)

REFUSED = Counter("rig_http_bodies_refused_total", "Requests answered 413: the body passed the route's limit",
                  ["how"])


class BodyTooLarge(Exception):  # noqa: N818 - a signal between our receive wrapper and the middleware
    """The body passed its limit while the app was reading it (already answered 413)."""


def limit_for(path: str, default: int, routes: Mapping[str, int]) -> int:
    """The body limit of `path`: the longest matching prefix in `routes`, else `default`."""
    best, found = -1, default
    for prefix, limit in routes.items():
        owns = path == prefix or path.startswith(prefix.rstrip("/") + "/")
        if owns and len(prefix) > best:
            best, found = len(prefix), limit
    return found


class BodyLimit:
    """ASGI middleware answering 413 for bodies over the route's limit, from the header or by counting."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, routes: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = max_body_bytes
        self.routes = dict(routes or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a counting `receive`, or answer 413 without calling the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"], self.default, self.routes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            REFUSED.labels("declared").inc()
            await _too_large(limit, send)
            return
        received, started, answered = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, answered
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    REFUSED.labels("counted").inc()
                    if not started:  # answer now: the app may turn any error of its read into a 400 of its own
                        answered = True
                        await _too_large(limit, send)
                    raise BodyTooLarge(f"request body over {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 went out; whatever the app answers after its failed read is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not answered:
                raise


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None  # the HTTP server refuses malformed ones itself
    return None


async def _too_large(limit: int, send: Send) -> None:
    body = json.dumps({"detail": f"the request body is over the {limit} bytes this route takes: send less "
                                 "(the operator sets RIG_MAX_BODY_BYTES, and RIG_BODY_LIMITS per path)"}).encode()
    # No `Connection: close`: closing with the client's unread bytes in the socket makes the kernel reset the
    # connection, which can destroy this answer before the client reads it. Whatever more the client sends is
    # dropped by the HTTP server as it arrives (uvicorn discards the body of a finished exchange), never kept.
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def json_value(raw: bytes) -> Any:
    """`raw` as JSON; 400 when it is not JSON or nests deeper than `MAX_JSON_DEPTH`."""
    try:
        value = json.loads(raw)
    except RecursionError as error:
        raise _too_deep() from error
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise HTTPException(400, f"the body is not JSON ({type(error).__name__}): send application/json") from error
    if _depth_over(value, MAX_JSON_DEPTH):
        raise _too_deep()
    return value


def _too_deep() -> HTTPException:
    return HTTPException(400, f"the body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels")


def _depth_over(value: Any, limit: int) -> bool:
    """Whether `value` nests deeper than `limit` (without recursion, so any depth is safe to ask about)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def json_body(model: type[Model], *, after: Callable[..., Any]) -> Any:
    """A dependency giving the body as `model`, read only once the dependency `after` (the caller's check) passed.

    FastAPI reads a route's body before it solves any dependency; declare the body this way instead, with the
    route's authentication dependency as `after` (FastAPI solves it once per request, so the route may take it
    as a parameter too):

        Writer = Annotated[Principal, Depends(writer)]
        LearningBody = Annotated[Learning, json_body(Learning, after=writer)]
    """

    async def body_after_caller(request: Request, _caller: Any = Depends(after)) -> BaseModel:  # noqa: B008
        raw = await request.body()
        if not raw:
            raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required",
                                           "input": None}])
        try:
            return model.model_validate(json_value(raw))
        except ValidationError as error:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors(
                include_url=False, include_context=False, include_input=False)]) from error

    body_after_caller.__name__ = f"{model.__name__.lower()}_body"
    return Depends(body_after_caller)
