"""The edge states the client address itself: a caller's forwarded headers never pass, the peer is signed."""

from __future__ import annotations

from rig_edge.proxy import request_headers
from rig_service.forwarding import CLIENT_HEADER, attested_client

SECRET = "edge-secret-" + "e" * 40


def test_the_peer_replaces_whatever_the_caller_wrote_and_is_signed() -> None:
    forged = [(b"x-forwarded-for", b"10.9.0.5"), (b"x-forwarded-for", b"10.9.0.6"), (b"host", b"edge.local"),
              (CLIENT_HEADER.encode(), b"10.9.0.5;1;00"), (b"x-forwarded-host", b"evil"), (b"accept", b"*/*")]
    scope = {"headers": forged, "client": ("198.51.100.4", 40000), "scheme": "https"}

    sent = request_headers(scope, SECRET)

    names = [name for name, _ in sent]
    assert dict(sent)[b"x-forwarded-for"] == b"198.51.100.4" and names.count(b"x-forwarded-for") == 1
    assert names.count(CLIENT_HEADER.encode()) == 1
    assert attested_client(SECRET, dict(sent)[CLIENT_HEADER.encode()].decode()) == "198.51.100.4"
    assert dict(sent)[b"x-forwarded-host"] == b"edge.local" and dict(sent)[b"x-forwarded-proto"] == b"https"
    assert (b"accept", b"*/*") in sent


def test_without_a_secret_nothing_is_signed_and_the_callers_statement_is_still_dropped() -> None:
    scope = {"headers": [(CLIENT_HEADER.encode(), b"10.9.0.5;1;00")], "client": ("198.51.100.4", 1)}

    sent = request_headers(scope)

    assert CLIENT_HEADER.encode() not in dict(sent) and dict(sent)[b"x-forwarded-for"] == b"198.51.100.4"
