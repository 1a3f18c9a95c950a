"""The edge's own /services/edge/healthz, /readyz and /metrics, with per-service request metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from edge_processes import Process
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.slow


@pytest.fixture
async def client(edge: Process) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=edge.url, trust_env=False, timeout=10) as client:
        yield client


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    health = await client.get("/services/edge/healthz")
    ready = await client.get("/services/edge/readyz")

    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_metrics_count_requests_latency_and_errors_per_service(client: httpx.AsyncClient) -> None:
    before = samples((await client.get("/services/edge/metrics")).text)
    await client.get("/api/events")
    await client.get("/api/events?status=500")
    await client.get("/api/merge")
    await client.get("/nowhere")

    after = samples((await client.get("/services/edge/metrics")).text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("rig_edge_requests_total", service="ingest", code="200") == 1
    assert grew("rig_edge_requests_total", service="ingest", code="500") == 1
    assert grew("rig_edge_requests_total", service="merger", code="502") == 1
    assert grew("rig_edge_requests_total", service="none", code="404") == 1
    assert grew("rig_edge_upstream_latency_seconds_count", service="ingest") == 2
    assert grew("rig_edge_upstream_errors_total", service="merger", kind="refused") == 1


async def test_edge_paths_are_never_forwarded(client: httpx.AsyncClient) -> None:
    response = await client.get("/services/edge/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
