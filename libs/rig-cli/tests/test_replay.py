"""`rig replay` against a real HTTP edge that speaks the rebuild protocol and checks the CLI's admin token."""

from __future__ import annotations

from cli_edge import EdgeState, create_edge
from cli_support import environment, rig, served, write_topology

from rig_identity.keys import load_or_create
from rig_identity.tokens import generate_keypair


async def test_a_full_rebuild_resets_replays_everything_and_waits_until_live(tmp_path):
    _, public_pem = load_or_create(tmp_path)
    state = EdgeState(public_pem, log_length=25, per_poll=7)
    topology = write_topology(tmp_path / "topology.toml", {"costs": "rig_absent_costs.app:create_app"})
    async with served(create_edge(state)) as edge_url:
        result = await rig(["replay", "--service", "costs", "--poll", "0.01"],
                           environment(tmp_path, edge_url=edge_url, topology=str(topology)))

    assert result.exit_code == 0, result.output
    assert "costs is live again" in result.stdout
    assert "replayed 25 event(s) up to sequence 25" in result.stdout
    start, replay, *polls = state.calls
    assert start == ("start", "costs", {"from_seq": None})
    assert replay == ("replay", "costs", {"service": "costs", "after": 0, "rebuild_id": state.rebuild_id})
    assert len(polls) == 4 and state.state == "live"
    assert state.subjects == {next(iter(state.subjects))} and next(iter(state.subjects)).startswith("cli:")


async def test_a_rebuild_from_a_sequence_keeps_the_projection_and_replays_the_rest(tmp_path):
    private_pem, public_pem = generate_keypair()
    state = EdgeState(public_pem, log_length=25, per_poll=100)
    topology = write_topology(tmp_path / "topology.toml", {"costs": "rig_absent_costs.app:create_app"})
    async with served(create_edge(state)) as edge_url:
        result = await rig(["replay", "--service", "costs", "--from", "20", "--poll", "0.01"],
                           environment(tmp_path, edge_url=edge_url, topology=str(topology),
                                       token_private_key=private_pem))

    assert result.exit_code == 0, result.output
    assert state.calls[0] == ("start", "costs", {"from_seq": 20})
    assert state.calls[1][2]["after"] == 20
    assert "replayed 5 event(s)" in result.stdout
    assert not (tmp_path / "keys").exists(), "a key given in the environment must not create a pair on disk"


async def test_a_rebuild_that_does_not_finish_in_time_says_it_carries_on(tmp_path):
    _, public_pem = load_or_create(tmp_path)
    state = EdgeState(public_pem, log_length=25, per_poll=0)
    topology = write_topology(tmp_path / "topology.toml", {"costs": "rig_absent_costs.app:create_app"})
    async with served(create_edge(state)) as edge_url:
        result = await rig(["replay", "--service", "costs", "--timeout", "0.2", "--poll", "0.05"],
                           environment(tmp_path, edge_url=edge_url, topology=str(topology)))

    assert result.exit_code == 1
    assert "still rebuilding after 0.2 s (0 of 25 events)" in result.stderr
    assert "--timeout" in result.stderr


async def test_a_token_the_services_do_not_trust_is_explained(tmp_path):
    _, other_public = generate_keypair()
    state = EdgeState(other_public)
    topology = write_topology(tmp_path / "topology.toml", {"costs": "rig_absent_costs.app:create_app"})
    async with served(create_edge(state)) as edge_url:
        result = await rig(["replay", "--service", "costs"],
                           environment(tmp_path, edge_url=edge_url, topology=str(topology)))

    assert result.exit_code == 1
    assert "answered 401" in result.stderr and "rig tokens keygen" in result.stderr
    assert state.calls == []


async def test_an_unknown_service_or_a_missing_edge_says_what_to_do(tmp_path):
    topology = write_topology(tmp_path / "topology.toml", {"costs": "rig_absent_costs.app:create_app"})
    env = environment(tmp_path, edge_url="http://127.0.0.1:9", topology=str(topology))

    unknown = await rig(["replay", "--service", "nope"], env)
    assert unknown.exit_code == 2 and "known: costs" in unknown.stderr

    no_edge = await rig(["replay", "--service", "costs"], env)
    assert no_edge.exit_code == 1
    assert "cannot reach the edge at http://127.0.0.1:9" in no_edge.stderr and "RIG_EDGE_URL" in no_edge.stderr
