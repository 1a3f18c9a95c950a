"""`rig tokens revoke`: what it sends for a token or a jti, and what it says when it cannot.

The revocation through a running ingest and edge is tests/test_token_revocation.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cli_support import environment, rig
from click import BadParameter

from rig_cli.tokens import revocation_of
from rig_identity.tokens import generate_keypair, mint, verify


def test_a_whole_token_is_read_for_its_jti_and_expiry():
    private_pem, public_pem = generate_keypair()
    token = mint(private_pem, "agent:dev-e-node", ["events:write"], ttl=timedelta(days=3))
    principal = verify(public_pem, token)
    body = revocation_of(f"  {token}\n", "rotated")
    assert body == {"jti": principal.jti, "reason": "rotated", "expires_at": principal.expires_at.isoformat()}
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC) + timedelta(days=2)


def test_a_jti_is_sent_as_it_is():
    assert revocation_of("0f9c2b8e4d", "") == {"jti": "0f9c2b8e4d", "reason": ""}


@pytest.mark.parametrize("value", ["", "two words", "a.!!!.c", "a.bm90IGpzb24.c", "a.WzEsMl0.c", "a.e30.c"])
def test_what_is_neither_a_jti_nor_a_token_is_refused(value):
    with pytest.raises(BadParameter):
        revocation_of(value, "")


async def test_refused_arguments_and_an_unreachable_edge_say_what_to_do(tmp_path):
    private_pem, _ = generate_keypair()
    env = environment(tmp_path, token_private_key=private_pem, edge_url="http://127.0.0.1:9")
    garbled = await rig(["tokens", "revoke", "x.%%%.y"], env)
    assert garbled.exit_code == 2 and "rig tokens create" in garbled.stderr
    unreachable = await rig(["tokens", "revoke", "0f9c2b8e4d"], env)
    assert unreachable.exit_code == 1 and "cannot reach the edge at http://127.0.0.1:9" in unreachable.stderr
