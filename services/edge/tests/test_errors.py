"""What the edge answers when nobody owns a path, a service is down, hangs up, or is too slow."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from edge_processes import RESPONSE_TIMEOUT_S, Process

pytestmark = pytest.mark.slow


@pytest.fixture
async def client(edge: Process) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=edge.url, trust_env=False, timeout=10) as client:
        yield client


async def test_unknown_path_is_404_naming_the_table(client: httpx.AsyncClient) -> None:
    response = await client.get("/x")
    unknown_service = await client.get("/services/nobody/healthz")

    assert response.status_code == 404
    assert response.json() == {"detail": "no service owns /x (see topology.toml)"}
    assert unknown_service.status_code == 404


async def test_service_down_is_502_saying_which_and_what_to_do(client: httpx.AsyncClient, down_url: str) -> None:
    response = await client.post("/api/merge/o/r/1", content=b"{}")

    assert response.status_code == 502
    detail = response.json()["detail"]
    assert "merger" in detail and down_url in detail
    assert "is it running? `make run` starts every service" in detail


async def test_service_hanging_up_is_502(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/queue")

    assert response.status_code == 502
    assert "router" in response.json()["detail"]


async def test_slow_service_is_504_after_the_timeout(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    response = await client.get("/api/events/slow", params={"seconds": 5})
    took = time.perf_counter() - started

    assert response.status_code == 504
    assert "ingest" in response.json()["detail"] and "RIG_UPSTREAM_RESPONSE_TIMEOUT_S" in response.json()["detail"]
    assert RESPONSE_TIMEOUT_S <= took < RESPONSE_TIMEOUT_S + 2


async def test_websocket_is_refused(edge: Process) -> None:
    # A WebSocket upgrade the edge does not forward is closed before it is accepted: uvicorn answers 403.
    async with httpx.AsyncClient(base_url=edge.url, trust_env=False, timeout=10) as client:
        response = await client.get("/api/events", headers={
            "connection": "upgrade", "upgrade": "websocket", "sec-websocket-version": "13",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ=="})

    assert response.status_code == 403, response.text
