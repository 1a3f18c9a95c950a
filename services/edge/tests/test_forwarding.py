"""Requests through the edge reach the right service with path, query, body and headers intact, and back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from edge_processes import Process

pytestmark = pytest.mark.slow


@pytest.fixture
async def client(edge: Process) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=edge.url, trust_env=False, timeout=10) as client:
        yield client


def header(echo: dict[str, object], name: str) -> list[str]:
    pairs = echo["headers"]
    assert isinstance(pairs, list)
    return [value for key, value in pairs if key == name]


async def test_longest_prefix_wins(client: httpx.AsyncClient) -> None:
    events = await client.get("/api/events")
    stream_sibling = await client.get("/api/events/streaming")
    agents = await client.get("/api/agents/dev-e-node")

    assert events.json()["service"] == "ingest"
    assert stream_sibling.json()["service"] == "ingest", "a prefix owns whole segments only"
    assert agents.json()["service"] == "dashboard"
    async with client.stream("GET", "/api/events/stream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")


async def test_services_prefix_is_stripped(client: httpx.AsyncClient) -> None:
    response = await client.get("/services/ingest/healthz")

    assert response.status_code == 200
    assert response.json() == {"service": "ingest", "path": "/healthz"}


async def test_the_path_passes_as_written(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/agents/a%2Fb/c")

    assert response.json()["raw_path"] == "/api/agents/a%2Fb/c"
    assert response.json()["service"] == "dashboard"


@pytest.mark.parametrize("path", ["/services/ingest/admin/rebuild", "/services/ingest/openapi.json",
                                  "/services/ingest/api/events", "/services/ingest/healthz/../admin/rebuild",
                                  "/services/ingest/healthz%2F..%2Fadmin", "/services/dashboard/cookies",
                                  "/services/sandbox/_sandbox/apps"])
async def test_under_services_only_health_readiness_and_metrics_pass(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    posted = await client.post(path, content=b"{}")

    assert (response.status_code, posted.status_code) == (404, 404)
    assert "service" not in response.json(), "never reached an upstream"


async def test_query_string_passes_exactly(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/events?x=1&y=a%20b&x=2&flag&z=%C3%A9")

    echo = response.json()
    assert echo["query_string"] == "x=1&y=a%20b&x=2&flag&z=%C3%A9"
    assert echo["query"] == [["x", "1"], ["y", "a b"], ["x", "2"], ["flag", ""], ["z", "é"]]


async def test_post_body_and_method_pass(client: httpx.AsyncClient) -> None:
    body = b'{"type": "WORK_STARTED"}' * 5000

    posted = await client.post("/api/events", content=body, headers={"content-type": "application/json"})
    put = await client.put("/webhooks/github", content=b"x")

    assert posted.json()["method"] == "POST" and posted.json()["body"].encode() == body
    assert header(posted.json(), "content-length") == [str(len(body))]
    assert put.json()["method"] == "PUT" and put.json()["path"] == "/webhooks/github"


async def test_chunked_request_body_is_streamed_on(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            yield part

    response = await client.post("/api/events", content=chunks())

    assert response.json()["body"] == "one,two,three"


async def test_status_codes_and_response_headers_pass(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/events?status=201", content=b"{}")
    missing = await client.get("/api/events/nothing?status=404")
    cookies = await client.get("/api/agents/cookies")

    assert created.status_code == 201 and created.headers["x-upstream"] == "ingest"
    assert missing.status_code == 404 and missing.json()["service"] == "ingest", "the upstream's own 404 body"
    assert cookies.headers.get_list("set-cookie") == ["a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"]
    assert len(created.headers.get_list("date")) == 1 and len(created.headers.get_list("server")) == 1


async def test_forwarded_headers_are_added_and_hop_by_hop_dropped(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/events", headers={
        "x-request-id": "abc", "x-forwarded-for": "203.0.113.7", "x-rig-client": "203.0.113.7;1;00",
        "connection": "keep-alive, x-hop",
        "x-hop": "one hop only", "te": "trailers", "proxy-authorization": "Basic c2VjcmV0",
    })

    direct = await client.get("/api/events")

    echo = response.json()
    assert header(echo, "x-request-id") == ["abc"]
    # The edge names the peer it saw, whatever the client wrote (docs/security.md); with no RIG_EDGE_SECRET here it
    # signs nothing, and a client's own X-Rig-Client never passes.
    assert header(echo, "x-forwarded-for") == header(direct.json(), "x-forwarded-for") == ["127.0.0.1"]
    assert header(echo, "x-rig-client") == []
    assert header(echo, "x-forwarded-proto") == ["http"]
    assert header(echo, "x-forwarded-host") == [client.base_url.netloc.decode()]
    for dropped in ("x-hop", "te", "proxy-authorization", "connection", "cookie"):
        assert header(echo, dropped) == [], dropped


async def test_edge_adds_no_headers_of_its_own_client(client: httpx.AsyncClient) -> None:
    request = client.build_request("GET", "/api/events", headers={"user-agent": "rig-test/1"})
    del request.headers["accept-encoding"]

    echo = (await client.send(request)).json()

    assert header(echo, "user-agent") == ["rig-test/1"]
    assert header(echo, "accept-encoding") == [], "an upstream would gzip for a client that never asked"


async def test_head_answers_headers_without_a_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/api/events")

    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0 and response.content == b""
    assert response.headers["x-upstream"] == "ingest"
