"""The edge made from the repository's own topology.toml sends the public paths of docs/design.md to their owners."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from edge_processes import Process, start_edge

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_edge(upstreams: dict[str, Process], log_dir: Path) -> Iterator[Process]:
    process = start_edge({name: p.url for name, p in upstreams.items()}, log_dir)
    yield process
    process.stop()


@pytest.mark.parametrize(("path", "owner"), [
    ("/api/events/stream", "dashboard"),
    ("/api/events", "ingest"),
    ("/webhooks/github", "ingest"),
    ("/", "dashboard"),
    ("/issues/o/r/1", "dashboard"),
    ("/services/ingest/metrics", "ingest"),
])
async def test_public_paths_reach_their_owner(real_edge: Process, path: str, owner: str) -> None:
    async with httpx.AsyncClient(base_url=real_edge.url, trust_env=False, timeout=10) as client:
        if path == "/api/events/stream":
            async with client.stream("GET", path) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
            return
        response = await client.get(path)

    assert response.json()["service"] == owner
