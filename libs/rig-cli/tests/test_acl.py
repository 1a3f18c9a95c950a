"""`rig acl apply`: agent pool users on a private Redis (never the shared one), each confined to its own keys."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from cli_support import environment, json_of, rig, write_topology
from redis.exceptions import NoPermissionError, ResponseError

from rig_contracts import Names


async def connect_as(url: str, user: str, password: str) -> aioredis.Redis:
    client = aioredis.Redis.from_url(url, username=user, password=password)
    await client.ping()
    return client


async def test_apply_creates_each_pools_user_with_a_password_shown_once(tmp_path, private_redis, key_prefix):
    names = Names(key_prefix)
    topology = write_topology(tmp_path / "t.toml", {}, agents=("dev-e-node", "review-e"))
    env = environment(tmp_path, redis_url=private_redis.url, key_prefix=key_prefix, topology=str(topology))
    env["RIG_ACL_PASSWORD_REVIEW_E"] = "review-secret-from-env"

    users = {u["agent"]: u for u in json_of(await rig(["acl", "apply", "--json"], env))["users"]}

    assert set(users) == {"dev-e-node", "review-e"}
    node, review = users["dev-e-node"], users["review-e"]
    assert node["user"] == f"{key_prefix.removesuffix(':')}-agent-dev-e-node"
    assert node["password"] and len(node["password"]) >= 32 and node["password_from"] == "generated"
    assert review["password"] is None and review["password_from"] == "RIG_ACL_PASSWORD_REVIEW_E"
    agent = await connect_as(private_redis.url, node["user"], node["password"])
    reviewer = await connect_as(private_redis.url, review["user"], "review-secret-from-env")
    try:
        assert await agent.xadd(names.assignments("dev-e-node"), {"event": "{}"})
        with pytest.raises(ResponseError) as refused:
            await agent.xadd(names.events, {"event": "{}"})
        assert isinstance(refused.value, NoPermissionError) or "NOPERM" in str(refused.value)
        assert await reviewer.xadd(names.assignments("review-e"), {"event": "{}"})
    finally:
        await agent.aclose()
        await reviewer.aclose()


async def test_apply_again_rotates_a_generated_password(tmp_path, private_redis, key_prefix):
    topology = write_topology(tmp_path / "t.toml", {}, agents=("dev-e-node", "review-e"))
    env = environment(tmp_path, redis_url=private_redis.url, key_prefix=key_prefix, topology=str(topology))

    first = await rig(["acl", "apply", "--agent", "dev-e-node"], env)
    second = json_of(await rig(["acl", "apply", "--agent", "dev-e-node", "--json"], env))["users"]

    assert first.exit_code == 0, first.output
    assert "shown only now" in first.stdout
    [user] = second
    assert user["password"] not in first.stdout
    client = await connect_as(private_redis.url, user["user"], user["password"])
    await client.aclose()


async def test_an_unknown_agent_is_refused_with_the_known_ones(tmp_path, private_redis, key_prefix):
    topology = write_topology(tmp_path / "t.toml", {}, agents=("dev-e-node",))
    result = await rig(["acl", "apply", "--agent", "dev-e-cobol"],
                       environment(tmp_path, redis_url=private_redis.url, topology=str(topology)))
    assert result.exit_code == 2
    assert "dev-e-cobol" in result.stderr and "dev-e-node" in result.stderr and "ibuild-e" in result.stderr
