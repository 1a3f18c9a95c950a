"""Server-sent events pass through the edge as they are produced; keep-alive round trips stay fast."""

from __future__ import annotations

import json
import statistics
import time

import httpx
import pytest
from edge_processes import RESPONSE_TIMEOUT_S, Process

pytestmark = pytest.mark.slow


async def test_events_arrive_one_by_one_before_the_upstream_finishes(edge: Process) -> None:
    arrivals: list[tuple[float, dict[str, float]]] = []
    async with httpx.AsyncClient(base_url=edge.url, trust_env=False, timeout=10) as client:
        started = time.time()
        async with client.stream("GET", "/api/events/stream") as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    arrivals.append((time.time(), json.loads(line.removeprefix("data: "))))

    assert [event["n"] for _, event in arrivals] == [1, 2, 3]
    (first_seen, _), (_, second) = arrivals[0], arrivals[1]
    assert first_seen < second["at"], "the first event arrived only after the upstream produced the second"
    assert first_seen - started < 1.0, f"first event took {first_seen - started:.2f} s"
    assert arrivals[-1][0] - started > RESPONSE_TIMEOUT_S, "the stream outlived the edge's wait for headers"


async def test_sequential_requests_on_one_connection_are_not_held_by_delayed_acks(edge: Process) -> None:
    # Without TCP_NODELAY somewhere on the path, each keep-alive request costs ~40 ms of delayed ACK.
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=edge.url, trust_env=False, timeout=10, limits=limits) as client:
        await client.post("/api/events", content=b"{}")
        took = []
        for _ in range(30):
            started = time.perf_counter()
            response = await client.post("/api/events", content=b'{"n": 1}')
            took.append(time.perf_counter() - started)
            assert response.status_code == 200

    assert statistics.median(took) < 0.020, f"median {statistics.median(took) * 1000:.1f} ms"
