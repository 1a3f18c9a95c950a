"""Tokens: minted with the private key, verified with the public key alone, refused when anything is off."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from rig_identity.tokens import ISSUER, SCOPES, InvalidToken, Principal, generate_keypair, mint, verify

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PRIVATE, PUBLIC = generate_keypair()


def unsigned(header: dict[str, str], claims: dict[str, object], key: bytes = b"") -> str:
    def part(value: dict[str, object] | dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims)}"
    signature = b"" if header["alg"] == "none" else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def claims_of(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_token_round_trips_with_its_subject_scopes_and_expiry() -> None:
    token = mint(PRIVATE, "agent:dev-e-node", ["runs:write", "events:write"], now=NOW)

    principal = verify(PUBLIC, token, now=NOW + timedelta(days=1))

    assert principal.subject == "agent:dev-e-node"
    assert principal.scopes == frozenset({"runs:write", "events:write"})
    assert principal.expires_at == NOW + timedelta(days=90)
    claims = claims_of(token)
    assert claims["jti"] == principal.jti and len(principal.jti) == 32
    assert claims["iss"] == ISSUER
    assert claims["scope"] == "events:write runs:write"
    assert (claims["iat"], claims["exp"]) == (int(NOW.timestamp()), int((NOW + timedelta(days=90)).timestamp()))
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"


def test_every_token_has_its_own_id() -> None:
    assert len({claims_of(mint(PRIVATE, "human:alice", ["read"]))["jti"] for _ in range(5)}) == 5


@pytest.mark.parametrize("scopes", [["read", "deploy"], [], ["Read"]])
def test_minting_an_unknown_scope_or_none_is_refused(scopes: list[str]) -> None:
    with pytest.raises(ValueError, match="scope"):
        mint(PRIVATE, "human:alice", scopes)


def test_minting_needs_a_subject_and_a_positive_ttl() -> None:
    with pytest.raises(ValueError, match="subject"):
        mint(PRIVATE, "", ["read"])
    with pytest.raises(ValueError, match="ttl"):
        mint(PRIVATE, "human:alice", ["read"], ttl=timedelta(0))


def test_an_expired_token_is_refused_with_what_to_do() -> None:
    token = mint(PRIVATE, "human:alice", ["read"], ttl=timedelta(hours=1), now=NOW)

    with pytest.raises(InvalidToken, match=r"expired .*rig tokens create"):
        verify(PUBLIC, token, now=NOW + timedelta(hours=1))


def test_a_token_signed_with_another_key_is_refused() -> None:
    other_private, _ = generate_keypair()
    forged = mint(other_private, "human:mallory", [*SCOPES], now=NOW)

    with pytest.raises(InvalidToken, match="signature"):
        verify(PUBLIC, forged, now=NOW)


def test_a_tampered_token_is_refused() -> None:
    header, _, signature = mint(PRIVATE, "agent:review-e", ["read"], now=NOW).split(".")
    claims = claims_of(mint(PRIVATE, "agent:review-e", ["admin"], now=NOW))
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    with pytest.raises(InvalidToken, match="signature"):
        verify(PUBLIC, f"{header}.{payload}.{signature}", now=NOW)


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
def test_only_eddsa_is_accepted(algorithm: str) -> None:
    claims = claims_of(mint(PRIVATE, "human:mallory", ["admin"], now=NOW))
    # HS256 keyed with the public key is the classic confusion attack on verifiers that trust the header.
    token = unsigned({"alg": algorithm, "typ": "JWT"}, claims, key=PUBLIC.encode())

    with pytest.raises(InvalidToken, match=f"'{algorithm}', only EdDSA"):
        verify(PUBLIC, token, now=NOW)


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30."])
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify(PUBLIC, token, now=NOW)


def test_a_token_from_another_issuer_is_refused() -> None:
    claims = {**claims_of(mint(PRIVATE, "human:alice", ["read"], now=NOW)), "iss": "elsewhere"}
    key = load_pem_private_key(PRIVATE.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    token = jwt.encode(claims, key, algorithm="EdDSA")

    with pytest.raises(InvalidToken, match="issued by"):
        verify(PUBLIC, token, now=NOW)


def test_a_subject_speaks_only_as_itself_unless_admin() -> None:
    agent = Principal("agent:dev-e-node", frozenset({"events:write"}), "j1", NOW)
    admin = Principal("human:ops", frozenset({"admin"}), "j2", NOW)

    assert agent.may_speak_as("agent:dev-e-node")
    assert not agent.may_speak_as("agent:review-e")
    assert admin.may_speak_as("agent:review-e")
    assert admin.has_scope("merge:request") and not agent.has_scope("merge:request")
