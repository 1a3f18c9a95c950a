"""Access tokens (docs/design.md §8): EdDSA JWTs minted with a private key, verified with the public key alone."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ADMIN = "admin"
"""The scope that satisfies every other scope and may speak as any subject."""

SCOPES = frozenset({"events:write", "runs:write", "merge:request", "assignments:pull", "read", ADMIN})
"""Every scope a token may carry."""

ISSUER = "rig-conductor"
"""The `iss` claim of every token we mint, and the only one we accept."""

ALGORITHM = "EdDSA"
"""The only signing algorithm minted or accepted (Ed25519)."""

DEFAULT_TTL = timedelta(days=90)
"""How long a token lives unless told otherwise."""

CLOCK_SKEW = timedelta(seconds=60)
"""How far in the future `iat` may lie, for hosts whose clocks disagree a little."""

_REMEDY = "mint a new one with `rig tokens create`"
_MALFORMED = "malformed token ({}): send the token exactly as `rig tokens create` printed it"
_REQUIRED_CLAIMS = ("sub", "scope", "iat", "exp", "jti", "iss")


class InvalidToken(Exception):  # noqa: N818 - named after what it describes, as PyJWT does
    """A token that must not be trusted; `reason` says why and what to do about it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as a verified token says: its subject, its scopes, its id and its expiry."""

    subject: str
    scopes: frozenset[str]
    jti: str
    expires_at: datetime
    any_agent: bool = False
    """A token-less caller from a network the operator trusts (the public agent runtime): it names its agent."""

    def has_scope(self, scope: str) -> bool:
        """Whether the token grants `scope`; `admin` grants every scope."""
        return scope in self.scopes or ADMIN in self.scopes

    def may_speak_as(self, subject: str) -> bool:
        """Whether this caller may act as `subject`: only as itself, unless it holds `admin`.

        A token-less caller from a trusted network (the public runtime) may act as any agent.
        """
        return subject == self.subject or ADMIN in self.scopes or (self.any_agent and subject.startswith("agent:"))


def generate_keypair() -> tuple[str, str]:
    """Return a fresh Ed25519 key pair as `(private_pem, public_pem)` text (PKCS#8 and SubjectPublicKeyInfo)."""
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem.decode("ascii"), public_pem.decode("ascii")


def mint(
    private_pem: str | bytes,
    subject: str,
    scopes: Iterable[str],
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> str:
    """Sign a token for `subject` with `scopes`, valid for `ttl` from `now`.

    Raises ValueError for an empty subject, no scopes, an unknown scope, a non-positive ttl or a key that is not
    an Ed25519 private key.
    """
    granted = _checked_scopes(scopes)
    if not subject or any(c.isspace() for c in subject):
        raise ValueError(f"subject {subject!r} is not usable: give one like `agent:dev-e-node` or `human:alice`")
    if ttl <= timedelta(0):
        raise ValueError(f"ttl {ttl} is not positive: give how long the token should live")
    issued = _utc(now)
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "scope": " ".join(sorted(granted)),
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _private_key(_as_bytes(private_pem)), algorithm=ALGORITHM)


def verify(public_pem: str | bytes, token: str, now: datetime | None = None) -> Principal:
    """Check a token's algorithm, signature, issuer and expiry at `now`, and return who it speaks for.

    Raises InvalidToken for anything else: a malformed token, another algorithm (`none`, `HS256`, …),
    a signature from another key, a foreign issuer, or an expired token.
    """
    key = _public_key(_as_bytes(public_pem))
    _check_algorithm(token)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            # Time is checked below against `now`, so callers and tests share one clock.
            options={"require": list(_REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False,
                     "verify_nbf": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise InvalidToken(f"token signature does not match this installation's key: {_REMEDY}") from exc
    except jwt.InvalidIssuerError as exc:
        raise InvalidToken(f"token was not issued by {ISSUER}: {_REMEDY}") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(_MALFORMED.format(exc)) from exc
    return _principal(claims, _utc(now))


def _check_algorithm(token: str) -> None:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(_MALFORMED.format(exc)) from exc
    algorithm = header.get("alg")
    if algorithm != ALGORITHM:
        raise InvalidToken(f"token uses algorithm {algorithm!r}, only {ALGORITHM} is accepted: {_REMEDY}")


def _principal(claims: Mapping[str, Any], now: datetime) -> Principal:
    subject, scope, jti = claims["sub"], claims["scope"], claims["jti"]
    issued, expires = claims["iat"], claims["exp"]
    if not (isinstance(subject, str) and subject and isinstance(scope, str) and isinstance(jti, str) and jti):
        raise InvalidToken(f"malformed token (sub, scope or jti is not text): {_REMEDY}")
    if not (_is_number(issued) and _is_number(expires)):
        raise InvalidToken(f"malformed token (iat or exp is not a number): {_REMEDY}")
    expires_at = datetime.fromtimestamp(expires, UTC)
    if expires_at <= now:
        raise InvalidToken(f"token expired at {expires_at.isoformat()}: {_REMEDY}")
    if datetime.fromtimestamp(issued, UTC) > now + CLOCK_SKEW:
        raise InvalidToken(f"token is issued in the future: check this host's clock, or {_REMEDY}")
    return Principal(subject=subject, scopes=frozenset(scope.split()), jti=jti, expires_at=expires_at)


def _checked_scopes(scopes: Iterable[str]) -> frozenset[str]:
    if isinstance(scopes, str):
        # A lone string would be split into letters; accept the claim's own space-separated form instead.
        scopes = scopes.split()
    granted = frozenset(scopes)
    unknown = granted - SCOPES
    if unknown:
        raise ValueError(f"unknown scope(s) {sorted(unknown)}: use some of {sorted(SCOPES)}")
    if not granted:
        raise ValueError(f"a token needs at least one scope: use some of {sorted(SCOPES)}")
    return granted


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone: pass an aware datetime, e.g. datetime.now(UTC)")
    return moment.astimezone(UTC)


def _as_bytes(pem: str | bytes) -> bytes:
    return pem.encode("ascii") if isinstance(pem, str) else pem


@functools.lru_cache(maxsize=16)
def _private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if isinstance(key, Ed25519PrivateKey):
        return key
    raise ValueError(f"{type(key).__name__} is not an Ed25519 private key: generate a pair with generate_keypair()")


@functools.lru_cache(maxsize=16)
def _public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if isinstance(key, Ed25519PublicKey):
        return key
    raise ValueError(f"{type(key).__name__} is not an Ed25519 public key: use the public half of the signing pair")
