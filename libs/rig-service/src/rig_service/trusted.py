"""Which RIG_TRUSTED_NETWORKS a service accepts: never one that trusts everybody (docs/security.md).

A token-less call of the public agent runtime is believed from a trusted network because of its address alone.
So the ranges must hold the runtime's own hosts and nobody else:

- a range broader than /8 (`0.0.0.0/0`, `::/0`, `0.0.0.0/1`…) holds much of the Internet: refused always;
- loopback (127.0.0.0/8, ::1) is refused outside development: a local tunnel or relay in front of the edge
  (ssh -R, cloudflared, ngrok, a sidecar) connects from loopback for every caller, so "loopback" says nothing
  about who is calling;
- outside development, trusting a network needs RIG_EDGE_SECRET, so that a service can tell the client address
  the edge saw (signed) from a forged X-Forwarded-For (`rig_service.forwarding`).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_network

BROADEST_PREFIX = 8
"""The shortest prefix accepted, IPv4 or IPv6 (10.0.0.0/8 and fd00::/8 pass, 0.0.0.0/0 and ::/0 do not)."""

EDGE_SECRET_MIN_CHARS = 32
"""The shortest RIG_EDGE_SECRET accepted outside development."""

LOOPBACK: tuple[IPv4Network | IPv6Network, ...] = (
    ip_network("127.0.0.0/8"), ip_network("::1/128"), ip_network("::ffff:127.0.0.0/104"))
"""Loopback, IPv4-mapped loopback included."""

_INSTEAD = ("name only the range the public agent runtime's own hosts connect from (e.g. its pods' CIDR, "
            "10.42.0.0/16), or give the runtime a token (`rig tokens create --subject agent:<pool> --scope …`) "
            "and trust no network")


def check_trusted_networks(networks: Sequence[IPv4Network | IPv6Network], *, development: bool,
                           edge_secret: str | None) -> None:
    """Raise ValueError, saying why and what to set instead, for trusted networks that would trust anyone."""
    for network in networks:
        if network.prefixlen < BROADEST_PREFIX:
            raise ValueError(f"RIG_TRUSTED_NETWORKS holds {network}, which trusts {network.num_addresses:.3g} "
                             f"addresses, much of the Internet: {_INSTEAD}")
        if not development and any(network.overlaps(loop) for loop in LOOPBACK if loop.version == network.version):
            raise ValueError(
                f"RIG_TRUSTED_NETWORKS holds {network}, which includes loopback: outside development a local "
                "tunnel or relay in front of the edge makes every caller loopback, so anyone would be trusted; "
                f"{_INSTEAD} (loopback is accepted only with RIG_ENVIRONMENT=development)")
    if networks and not development:
        check_edge_secret(edge_secret, why="RIG_TRUSTED_NETWORKS is set")


def check_edge_secret(edge_secret: str | None, *, why: str) -> None:
    """Raise ValueError unless `edge_secret` is long enough to sign client addresses (outside development)."""
    if edge_secret is None or len(edge_secret.strip()) < EDGE_SECRET_MIN_CHARS:
        raise ValueError(
            f"{why}, so RIG_EDGE_SECRET must hold at least {EDGE_SECRET_MIN_CHARS} random characters, the same in "
            "the edge and every service (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`): "
            "without it a service cannot tell the client address the edge saw from a forged X-Forwarded-For")
