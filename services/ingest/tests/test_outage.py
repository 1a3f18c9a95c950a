"""Webhooks while Redis is down: accepted from the database alone, published once Redis is back, once each."""

from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from ingest_support import deliver, example
from sweep_support import stream_types

from rig_ingest.app import create_app
from rig_ingest.settings import IngestSettings
from rig_testing.servers import PrivateRedis
from rig_testing.waiting import eventually


@pytest.fixture
async def outage_client(settings, private_redis) -> AsyncIterator[httpx.AsyncClient]:
    """Ingest against a Redis of this test's own, which the test stops and starts."""
    own: IngestSettings = settings.model_copy(update={"redis_url": private_redis.url})
    app = create_app(own)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ingest") as http:
        assert (await http.get("/readyz")).status_code == 200
        yield http


async def test_with_redis_stopped_webhooks_are_accepted_and_their_events_reach_the_stream_once_it_is_back(
        outage_client, private_redis: PrivateRedis, key_prefix):
    private_redis.stop()
    approval = example("issues", "labeled")
    approval["label"]["name"] = "agent-ready"
    sent = [("pull_request", example("pull_request", "synchronize"), "guid-sync"),
            ("issues", approval, "guid-approve"),
            ("pull_request", example("pull_request", "synchronize"), "guid-sync"),  # GitHub sent it twice
            ("check_run", example("check_run", "completed"), None)]
    answers = [await deliver(outage_client, event, payload, guid) for event, payload, guid in sent]
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, False, True, False]

    private_redis.start()
    back = aioredis.Redis.from_url(private_redis.url)
    try:
        expected = ["PR_UPDATED", "ISSUE_APPROVED", "CHECKS_COMPLETED"]

        async def published() -> list[str] | None:
            types = await stream_types(back, key_prefix)
            return types if len(types) >= len(expected) else None
        assert await eventually(published, within_s=60, what="the stored events on the stream") == expected
        assert (await outage_client.get("/readyz")).status_code == 200
        again = await deliver(outage_client, "pull_request", example("pull_request", "synchronize"), "guid-sync")
        assert again.json()["duplicate"] is True
        assert await stream_types(back, key_prefix) == expected
    finally:
        await back.aclose()
