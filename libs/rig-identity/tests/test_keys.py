"""The local signing keys: made once under the data dir, private to their owner, shared by every caller."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from rig_identity.keys import key_paths, load_or_create
from rig_identity.tokens import mint, verify


def test_the_pair_is_created_once_and_then_reused(tmp_path):
    private_pem, public_pem = load_or_create(tmp_path)
    private_path, public_path = key_paths(tmp_path)

    assert private_path.parent == tmp_path / "keys"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert private_path.read_text() == private_pem and public_path.read_text() == public_pem
    assert load_or_create(tmp_path) == (private_pem, public_pem)
    token = mint(private_pem, "cli:alice", ["admin"])
    assert verify(public_pem, token).subject == "cli:alice"


def test_processes_starting_together_all_get_the_same_pair(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        pairs = set(pool.map(lambda _: load_or_create(tmp_path), range(8)))
    assert len(pairs) == 1
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["token-signing.pem", "token-signing.pub.pem"]


def test_a_lost_public_key_is_written_again_from_the_private_one(tmp_path):
    pair = load_or_create(tmp_path)
    key_paths(tmp_path)[1].unlink()
    assert load_or_create(tmp_path) == pair


def test_a_private_key_others_can_read_is_refused_with_the_fix(tmp_path):
    load_or_create(tmp_path)
    private_path = key_paths(tmp_path)[0]
    private_path.chmod(0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        load_or_create(tmp_path)


def test_a_public_key_without_its_private_key_is_not_silently_replaced(tmp_path):
    load_or_create(tmp_path)
    key_paths(tmp_path)[0].unlink()
    with pytest.raises(FileNotFoundError, match="restore the private key"):
        load_or_create(tmp_path)
