"""A small upstream service for the edge tests, run as its own uvicorn process (`UPSTREAM_NAME` names it).

It echoes what it received, answers with a chosen status and headers, streams server-sent events with a pause
between them, and can be slow on purpose.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

SSE_PAUSE_S = float(os.environ.get("UPSTREAM_SSE_PAUSE_S", "1.5"))


def create_app() -> FastAPI:
    name = os.environ.get("UPSTREAM_NAME", "upstream")
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"service": name, "path": "/healthz"}

    @app.get("/api/events/stream")
    async def stream() -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            yield f"data: {{\"n\": 1, \"at\": {time.time()}}}\n\n"
            await asyncio.sleep(SSE_PAUSE_S)
            yield f"data: {{\"n\": 2, \"at\": {time.time()}}}\n\n"
            yield f"data: {{\"n\": 3, \"at\": {time.time()}}}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"cache-control": "no-cache"})

    @app.get("/slow")
    @app.get("/api/events/slow")
    async def slow(seconds: float = 3.0) -> dict[str, str]:
        await asyncio.sleep(seconds)
        return {"service": name}

    @app.get("/cookies")
    @app.get("/api/agents/cookies")
    async def cookies() -> Response:
        response = JSONResponse({"service": name})
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    @app.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request: Request, path: str) -> Response:
        body = await request.body()
        status = int(request.query_params.get("status", "200"))
        return JSONResponse(
            {"service": name, "method": request.method, "path": request.url.path,
             "raw_path": request.scope["raw_path"].decode(),
             "query_string": request.scope["query_string"].decode(),
             "query": list(request.query_params.multi_items()), "body": body.decode(),
             "headers": [[k, v] for k, v in request.headers.items()]},
            status_code=status, headers={"x-upstream": name},
        )

    return app
