"""`rig status`: services through a real HTTP edge, streams and groups on the real Redis."""

from __future__ import annotations

from cli_edge import EdgeState, create_edge
from cli_support import environment, json_of, rig, served, write_topology

from rig_cli.status import group_lag
from rig_contracts import Names
from rig_identity.keys import load_or_create

SERVICES = {"ledger": "rig_db.pool:create_pool", "costs": "rig_bus.bus:RedisBus", "ghost": "rig_ghost.app:create_app"}


async def fill_valkey(redis, names: Names) -> None:
    ids = [await redis.xadd(names.events, {"event": "{}"}) for _ in range(5)]
    await redis.xgroup_create(names.events, "ledger", id="0")
    await redis.xgroup_create(names.events, "costs", id="0")
    await redis.xreadgroup("ledger", "ledger-1", {names.events: ">"}, count=3)
    await redis.xreadgroup("costs", "costs-1", {names.events: ">"}, count=10)
    await redis.xack(names.events, "costs", *ids)
    await redis.xadd(names.assignments("dev-e-node"), {"event": "{}"})
    for _ in range(2):
        await redis.xadd(names.assignments("review-e"), {"event": "{}"})
    await redis.xadd(names.dead, {"stream": names.events, "group": "ledger", "entry_id": "1-0", "fields": "{}"})


async def test_status_reports_services_streams_groups_and_dead_letters(tmp_path, redis, redis_url, key_prefix):
    names = Names(key_prefix)
    await fill_valkey(redis, names)
    _, public_pem = load_or_create(tmp_path)
    state = EdgeState(public_pem, unready={"costs": {"redis": "ConnectionError: Connection refused"}})
    topology = write_topology(tmp_path / "topology.toml", SERVICES)
    async with served(create_edge(state)) as edge_url:
        env = environment(tmp_path, edge_url=edge_url, topology=str(topology), redis_url=redis_url,
                          key_prefix=key_prefix)
        machine = await rig(["status", "--json"], env)
        human = await rig(["status"], env)

    assert machine.exit_code == 1, "a service is down"
    status = json_of(machine)
    assert [(s["name"], s["up"], s["failing"]) for s in status["services"]] == [
        ("edge", True, {}), ("ledger", True, {}), ("costs", False, {"redis": "ConnectionError: Connection refused"})]
    valkey = status["valkey"]
    assert valkey["streams"] == {names.events: 5, names.dead: 1, names.assignments("dev-e-node"): 1,
                                 names.assignments("review-e"): 2}
    groups = {g["name"]: (g["consumers"], g["pending"], g["lag"]) for g in valkey["groups"]}
    assert groups == {"ledger": (1, 3, 2), "costs": (1, 0, 0)}
    assert valkey["dead_letters"] == 1

    assert human.exit_code == 1
    for text in ("costs", "down", "redis: ConnectionError: Connection refused", names.events, "ledger",
                 "Dead letters: 1", "rig dead list"):
        assert text in human.stdout, text


async def test_status_exits_0_when_everything_is_up(tmp_path, redis, redis_url, key_prefix):
    _, public_pem = load_or_create(tmp_path)
    topology = write_topology(tmp_path / "topology.toml", SERVICES)
    async with served(create_edge(EdgeState(public_pem))) as edge_url:
        result = await rig(["status"], environment(tmp_path, edge_url=edge_url, topology=str(topology),
                                                   redis_url=redis_url, key_prefix=key_prefix))
    assert result.exit_code == 0, result.output
    assert f"No consumer groups on {Names(key_prefix).events} yet." in result.stdout


async def test_lag_is_counted_when_valkey_cannot_tell_it(redis, key_prefix):
    names = Names(key_prefix)
    ids = [await redis.xadd(names.events, {"event": "{}"}) for _ in range(2500)]
    await redis.xgroup_create(names.events, "slow", id="0")
    await redis.xreadgroup("slow", "c", {names.events: ">"}, count=100)
    await redis.xdel(names.events, ids[200])
    [info] = await redis.xinfo_groups(names.events)

    assert await group_lag(redis, names.events, {**info, "lag": None}) == 2399
    if info.get("lag") is not None:
        assert info["lag"] == 2399


async def test_status_without_edge_or_valkey_says_what_to_start(tmp_path):
    topology = write_topology(tmp_path / "topology.toml", SERVICES)
    result = await rig(["status", "--json"], environment(
        tmp_path, edge_url="http://127.0.0.1:9", topology=str(topology), redis_url="redis://127.0.0.1:9/0"))
    status = json_of(result)
    assert result.exit_code == 1
    assert all(not s["up"] and "make run" in s["failing"]["edge"] for s in status["services"])
    assert "cannot reach Valkey at redis://127.0.0.1:9/0" in status["valkey"]["error"]
    assert "RIG_REDIS_URL" in status["valkey"]["error"]
