"""`rig tokens create / keygen`: tokens the services verify with the public key alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cli_support import environment, rig

from rig_identity.keys import key_paths
from rig_identity.tokens import generate_keypair, verify


async def test_create_prints_a_token_the_public_key_verifies(tmp_path):
    env = environment(tmp_path)
    keygen = await rig(["tokens", "keygen"], env)
    assert keygen.exit_code == 0, keygen.output
    private_path, public_path = key_paths(tmp_path)
    assert str(private_path.resolve()) in keygen.stdout and str(public_path.resolve()) in keygen.stdout

    result = await rig(["tokens", "create", "--subject", "agent:dev-e-node", "--scope", "events:write",
                        "--scope", "runs:write", "--ttl-days", "3"], env)

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    principal = verify(public_path.read_text(), token)
    assert principal.subject == "agent:dev-e-node"
    assert principal.scopes == {"events:write", "runs:write"}
    assert abs(principal.expires_at - (datetime.now(UTC) + timedelta(days=3))) < timedelta(minutes=1)
    assert "expires" in result.stderr


async def test_create_signs_with_the_key_from_the_environment(tmp_path):
    private_pem, public_pem = generate_keypair()
    result = await rig(["tokens", "create", "--subject", "human:alice", "--scope", "read"],
                       environment(tmp_path, token_private_key=private_pem))
    assert result.exit_code == 0, result.output
    assert verify(public_pem, result.stdout.strip()).subject == "human:alice"
    assert not (tmp_path / "keys").exists()


async def test_unknown_scopes_and_bad_subjects_are_refused_with_the_valid_ones(tmp_path):
    env = environment(tmp_path)
    scope = await rig(["tokens", "create", "--subject", "agent:x", "--scope", "root"], env)
    subject = await rig(["tokens", "create", "--subject", "two words", "--scope", "read"], env)

    assert scope.exit_code == 2
    for valid in ("events:write", "runs:write", "merge:request", "assignments:pull", "read", "admin"):
        assert valid in scope.stderr
    assert subject.exit_code == 1 and "agent:dev-e-node" in subject.stderr
