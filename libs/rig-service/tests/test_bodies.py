"""The body limit and the JSON reader every route shares (the processes themselves: tests/test_input_limits.py)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from prometheus_client import REGISTRY

from rig_service.bodies import MAX_JSON_DEPTH, BodyLimit, json_value, limit_for


def test_the_longest_prefix_sets_the_limit():
    routes = {"/webhooks": 50, "/webhooks/github": 100}
    assert limit_for("/webhooks/github", 10, routes) == 100
    assert limit_for("/webhooks/github/x", 10, routes) == 100
    assert limit_for("/webhooks/gitlab", 10, routes) == 50
    assert limit_for("/webhooksx", 10, routes) == 10, "a prefix owns whole segments only"


@pytest.mark.parametrize("raw", [b"[" * 100_000, b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
                                 b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1),
                                 b"{not json", b"\xff"])
def test_what_is_not_json_or_nests_too_deep_is_a_400(raw):
    with pytest.raises(HTTPException) as refused:
        json_value(raw)
    assert refused.value.status_code == 400


def test_json_as_deep_as_allowed_is_read():
    assert json_value(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    assert json_value(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


def limited_app(calls: list[str]) -> BodyLimit:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        calls.append("called")
        return {"size": len(await request.body())}

    return BodyLimit(app, 100)


async def test_a_declared_length_over_the_limit_is_413_without_calling_the_app():
    calls: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited_app(calls)), base_url="http://s") as client:
        refused = await client.post("/echo", content=b"x" * 101)
        taken = await client.post("/echo", content=b"x" * 100)
    assert refused.status_code == 413 and "RIG_MAX_BODY_BYTES" in refused.json()["detail"]
    assert (REGISTRY.get_sample_value("rig_http_bodies_refused_total", {"how": "declared"}) or 0) >= 1
    assert taken.json() == {"size": 100}
    assert calls == ["called"], "the refused request never reached the app"


async def test_a_streamed_body_is_counted_and_the_app_answer_after_its_failed_read_is_dropped():
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 30

    calls: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited_app(calls)), base_url="http://s") as client:
        refused = await client.post("/echo", content=chunks())
    assert refused.status_code == 413
    assert calls == ["called"]
