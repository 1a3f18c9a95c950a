"""Plain helpers for the bad-input tests: every POST route of a running service, and a raw HTTP/1.1 client that
sends a body lazily and notes how much of it had left when the answer came."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

MB = 1024 * 1024
HUGE = 50 * MB
"""The body every POST route is offered."""

CHUNK = 64 * 1024

SAMPLE_PARAMETERS = {"run_id": "0190c0de-0000-7000-8000-000000000001",
                     "assignment_id": "0190c0de-0000-7000-8000-000000000002"}
"""What a path parameter is filled with when a route is called."""


@dataclass(frozen=True)
class Route:
    """A POST route of a service, as its OpenAPI document lists it, and a path that calls it."""

    service: str
    template: str

    @property
    def path(self) -> str:
        path = self.template
        for name, value in SAMPLE_PARAMETERS.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, f"give SAMPLE_PARAMETERS a value for the parameter of {self.template}"
        return path


async def post_routes(service: str, base_url: str) -> list[Route]:
    """Every POST route the running service serves (from its own OpenAPI document, so none is forgotten)."""
    async with httpx.AsyncClient(timeout=10) as client:
        document = (await client.get(f"{base_url}/openapi.json")).json()
    return sorted((Route(service, path) for path, methods in document["paths"].items() if "post" in methods),
                  key=lambda r: r.template)


@dataclass(frozen=True)
class Answer:
    """What came back to a raw request, how long it took, and how many body bytes had gone out by then."""

    status: int
    body: bytes
    seconds: float
    sent: int


Body = Callable[[], AsyncIterator[bytes]]


def lazily(total: int, first: int = CHUNK) -> Body:
    """A body of `total` bytes of which only `first` go out; the rest would follow long after any answer."""
    async def chunks() -> AsyncIterator[bytes]:
        yield b" " * min(first, total)
        await asyncio.sleep(3600)
        yield b" " * (total - first)
    return chunks


def eagerly(total: int, fast: int | None = None, pause_s: float = 0.01) -> Body:
    """A body of `total` bytes: the first `fast` bytes (all when None) as fast as the server takes them, the rest a
    chunk every `pause_s`, without waiting for an answer.

    A server that answers 413 and then discards the rest (uvicorn does) lets a client push 50 MB over loopback in a
    few milliseconds, before the client's own reader runs: past the route's limit, the body slows down so that
    "answered before the whole body was sent" says something about the server, not about the scheduler.
    """
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(total // CHUNK):
            yield b" " * CHUNK
            if fast is not None and index * CHUNK >= fast:
                await asyncio.sleep(pause_s)
    return chunks


async def post_raw(base_url: str, path: str, body: Body, *, length: int | None,
                   headers: dict[str, str] | None = None, within_s: float = 10.0) -> Answer:
    """POST over a socket of our own: Content-Length `length` (None: chunked), body from `body` while waiting.

    Returns once the status line and the answer's body are in; the body still unsent is then dropped.
    """
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    head = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    writer.write(f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n{head}"
                 f"{framing}\r\n\r\n".encode())
    sent = 0

    async def send() -> None:
        nonlocal sent
        with contextlib.suppress(ConnectionError):
            async for chunk in body():
                writer.write(chunk if length is not None else b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                sent += len(chunk)
            if length is None:
                writer.write(b"0\r\n\r\n")
                await writer.drain()

    started = time.perf_counter()
    sender = asyncio.create_task(send())
    try:
        try:
            status_line = await asyncio.wait_for(reader.readline(), within_s)
        except TimeoutError:
            raise AssertionError(f"no answer to POST {path} at {base_url} within {within_s:g} s, after {sent} body "
                                 "bytes: the server waits for the body") from None
        seconds = time.perf_counter() - started
        answered_at = sent
        size = 0
        while (line := await asyncio.wait_for(reader.readline(), within_s)) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                size = int(value)
        content = await asyncio.wait_for(reader.readexactly(size), within_s)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return Answer(int(status_line.split()[1]), content, seconds, answered_at)


def signed(secret: str, body: bytes, event: str = "issues") -> dict[str, str]:
    """The headers of a GitHub delivery of `body` signed with `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": event,
            "X-GitHub-Delivery": hashlib.sha1(body).hexdigest()}  # an id, not a signature
