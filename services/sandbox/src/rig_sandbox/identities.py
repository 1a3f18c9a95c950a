"""The sandbox's GitHub Apps (one per role, with RSA keys on disk), their installation tokens and users' PATs."""

from __future__ import annotations

import os
import secrets
import string
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rig_sandbox.records import ROLES, AppRecord, Role, TokenRecord
from rig_sandbox.store import Store

INSTALLATION_OWNER = "sandbox"
"""The organization the Apps belong to and are installed on (their installation covers every repository)."""

DEFAULT_AUTHOR = "maintainer"
"""The sandbox user that control actions (and the demo) act as unless told otherwise."""

_ALPHABET = string.ascii_letters + string.digits


def ensure_apps(store: Store, apps_dir: Path) -> list[AppRecord]:
    """Create the conductor, dev and review Apps the first time (a key each at `apps_dir/{role}.pem`, 0600).

    A key file that went missing is made anew (its App keeps its id); returns the Apps in role order.
    """
    store.account(INSTALLATION_OWNER, "Organization")
    apps = []
    for role in ROLES:
        key_path = apps_dir / f"{role}.pem"
        app = store.state.apps.get(role)
        if app is None or not key_path.exists():
            public_pem = _write_key(key_path)
            if app is None:
                slug = f"rig-{role}"
                app = AppRecord(role=role, id=store.new_id(), slug=slug, name=slug,
                                installation_id=store.new_id(), owner=INSTALLATION_OWNER, bot_login=f"{slug}[bot]",
                                key_path=str(key_path), public_pem=public_pem)
                store.state.apps[role] = app
            else:
                app.public_pem, app.key_path = public_pem, str(key_path)
        store.account(app.bot_login, "Bot")
        apps.append(app)
    return apps


def _write_key(path: Path) -> str:
    """Write a new RSA private key to `path` (owner-only) and return its public key in PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private)
    path.chmod(0o600)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _random_token(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(36))


def mint_installation_token(store: Store, app: AppRecord, ttl_s: int,
                            repositories: list[str] | None = None) -> TokenRecord:
    """A new `ghs_…` token acting as the App's bot user until `ttl_s` from now (limited to `repositories`)."""
    record = TokenRecord(token=_random_token("ghs_"), kind="installation", login=app.bot_login, app_role=app.role,
                         expires_at=time.time() + ttl_s, repositories=repositories)
    store.state.tokens[record.token] = record
    _forget_expired(store)
    return record


def mint_personal_token(store: Store, login: str) -> TokenRecord:
    """A new `ghp_…` personal access token of user `login` (it does not expire)."""
    record = TokenRecord(token=_random_token("ghp_"), kind="pat", login=login)
    store.state.tokens[record.token] = record
    return record


def app_role_of(store: Store, app_id: int) -> Role | None:
    """The role of the App with id `app_id`, if it is one of the sandbox's."""
    return next((app.role for app in store.state.apps.values() if app.id == app_id), None)


def _forget_expired(store: Store) -> None:
    """Drop installation tokens expired for over a day, so the state does not grow forever."""
    horizon = time.time() - 86_400
    expired = [key for key, record in store.state.tokens.items()
               if record.expires_at is not None and record.expires_at < horizon]
    for key in expired:
        del store.state.tokens[key]
