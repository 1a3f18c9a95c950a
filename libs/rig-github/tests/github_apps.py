"""The tests' GitHub Apps: their ids and RSA keys (made once per run)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rig_github import Role

APPS = {Role.CONDUCTOR: (101, 1001), Role.DEV: (202, 2002), Role.REVIEW: (303, 3003)}
"""App id and installation id of each role's App in the fake GitHub."""


@dataclass(frozen=True)
class AppKey:
    """An App's private key (PEM, what the client is given) and public key (PEM, what GitHub keeps)."""

    private_pem: str
    public_pem: str


@cache
def app_key(name: str) -> AppKey:
    """The key pair of the App called `name` (cached: RSA generation takes a moment)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return AppKey(private, public)
