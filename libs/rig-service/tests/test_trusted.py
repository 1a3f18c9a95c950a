"""RIG_TRUSTED_NETWORKS never trusts everyone, and the edge's signed client address (rig_service.forwarding)."""

from __future__ import annotations

import os
import time

import pytest
from pydantic import SecretStr, ValidationError

from rig_service.forwarding import attest, attested_client
from rig_service.settings import CommonSettings

EDGE_SECRET = SecretStr("s" * 64)


@pytest.fixture(autouse=True)
def no_rig_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep variables of the machine running the tests out of them."""
    for key in list(os.environ):
        if key.startswith("RIG_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("environment", ["development", "test", "production"])
@pytest.mark.parametrize("everyone", ["0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/4", "2000::/3"])
def test_a_range_broader_than_a_slash_8_is_refused_everywhere(environment: str, everyone: str) -> None:
    with pytest.raises(ValidationError, match=r"RIG_TRUSTED_NETWORKS holds .* much of the Internet: name only"):
        CommonSettings(environment=environment, trusted_networks=["10.0.0.0/8", everyone], edge_secret=EDGE_SECRET)


@pytest.mark.parametrize("environment", ["test", "production"])
@pytest.mark.parametrize("loopback", ["127.0.0.0/8", "127.0.0.1/32", "::1/128", "::ffff:127.0.0.1/128"])
def test_loopback_is_refused_outside_development_saying_why_and_what_instead(environment: str, loopback: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CommonSettings(environment=environment, trusted_networks=[loopback], edge_secret=EDGE_SECRET)
    message = str(refused.value)
    assert "includes loopback" in message and "tunnel or relay in front of the edge" in message
    assert "pods' CIDR" in message and "rig tokens create" in message


def test_development_may_trust_loopback_and_narrow_ranges_pass_everywhere() -> None:
    assert CommonSettings(environment="development", trusted_networks=["127.0.0.0/8"]).trusted_networks
    settings = CommonSettings(environment="production", trusted_networks=["10.42.0.0/16", "fd00::/8"],
                              edge_secret=EDGE_SECRET)
    assert [str(n) for n in settings.trusted_networks] == ["10.42.0.0/16", "fd00::/8"]


@pytest.mark.parametrize("secret", [None, "short"])
def test_trusting_a_network_outside_development_needs_the_edge_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="RIG_EDGE_SECRET must hold at least 32"):
        CommonSettings(environment="production", trusted_networks=["10.42.0.0/16"],
                       edge_secret=SecretStr(secret) if secret else None)


def test_the_edges_signed_address_verifies_only_unchanged_fresh_and_with_the_secret() -> None:
    now = time.time()
    signed = attest("k" * 40, "203.0.113.7", now)
    assert attested_client("k" * 40, signed, now + 5) == "203.0.113.7"
    assert attested_client("x" * 40, signed, now) is None  # another secret
    assert attested_client("k" * 40, signed.replace("203.0.113.7", "10.42.0.9"), now) is None  # address swapped
    assert attested_client("k" * 40, signed, now + 3600) is None  # replayed an hour later
    for malformed in ("", "203.0.113.7", "203.0.113.7;x;00", ";1;00"):
        assert attested_client("k" * 40, malformed, now) is None
