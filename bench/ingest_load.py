"""The ingest bench's load process: signed webhook deliveries over keep-alive loopback connections, closed loop.

`python -m bench.ingest_load --port P --bodies FILE --seconds S --connections C` sends, on each of C connections,
one delivery after another (the next as soon as the answer is read) for S seconds, each with a fresh
X-GitHub-Delivery, and prints what it measured as JSON. FILE holds the bodies, one JSON object a line
(`event`, `body`, `signature`: the signature depends only on the body, so it is computed once, before the run).
It runs as its own process so that it never shares an event loop, or a GIL, with the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

PATH = "/webhooks/github"


@dataclass(frozen=True)
class Body:
    """One signed payload: its X-GitHub-Event, its bytes and its X-Hub-Signature-256."""

    event: str
    body: bytes
    signature: str


def load_bodies(path: Path) -> list[Body]:
    """The bodies the bench prepared."""
    found = []
    for line in path.read_text().splitlines():
        item = json.loads(line)
        found.append(Body(item["event"], item["body"].encode(), item["signature"]))
    return found


def request(port: int, body: Body, guid: str) -> bytes:
    """The HTTP/1.1 request GitHub would send for this delivery."""
    head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: GitHub-Hookshot/bench\r\n"
            f"Content-Type: application/json\r\nX-GitHub-Event: {body.event}\r\nX-GitHub-Delivery: {guid}\r\n"
            f"X-Hub-Signature-256: {body.signature}\r\nContent-Length: {len(body.body)}\r\n\r\n")
    return head.encode() + body.body


async def answer(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length framed, as uvicorn answers JSON) and return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


async def connection(port: int, bodies: list[Body], offset: int, until: float,
                     latencies: list[float], statuses: dict[int, int]) -> None:
    """One keep-alive connection sending deliveries back to back until `until`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = offset
    try:
        while time.perf_counter() < until:
            payload = request(port, bodies[index % len(bodies)], str(uuid.uuid4()))
            index += 1
            started = time.perf_counter()
            writer.write(payload)
            status = await answer(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def percentile(ordered: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of sorted values."""
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))], 3)


async def drive(port: int, bodies: list[Body], seconds: float, connections: int) -> dict[str, Any]:
    """Run `connections` closed-loop connections for `seconds`; the rate, latencies in ms, and the statuses."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(connection(port, bodies, i * 7, until, latencies, statuses) for i in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"connections": connections, "seconds": round(elapsed, 3), "requests": len(latencies),
            "accepted": statuses.get(200, 0), "statuses": {str(k): v for k, v in statuses.items()},
            "rate": round(len(latencies) / elapsed, 1),
            **{f"p{q}": percentile(latencies, q) for q in (50, 90, 99)},
            "max": round(latencies[-1], 3), "mean": round(statistics.fmean(latencies), 3)}


def main() -> None:
    """Parse the arguments, run, print the JSON result."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_load", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--connections", type=int, required=True)
    args = parser.parse_args()
    bodies = load_bodies(args.bodies)
    # uvloop: the client's own overhead is smaller, so more of the shared CPU is left to the server.
    print(json.dumps(uvloop.run(drive(args.port, bodies, args.seconds, args.connections))))


if __name__ == "__main__":
    main()
