"""The installation's token signing keys on local disk (`<data dir>/keys/`), made on first use.

The local supervisor, its services and the `rig` tool share them when no key is given in the environment, so a
machine without any configuration can mint and verify tokens. In a cluster the keys come from secrets instead.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rig_identity.tokens import generate_keypair

KEYS_FOLDER = "keys"
"""Folder under the data dir that holds the pair."""

PRIVATE_KEY_FILE = "token-signing.pem"
"""The Ed25519 private key (PKCS#8 PEM), readable by its owner only."""

PUBLIC_KEY_FILE = "token-signing.pub.pem"
"""The matching public key (SubjectPublicKeyInfo PEM), what services verify with."""


def key_paths(data_dir: Path) -> tuple[Path, Path]:
    """Where the pair lives under `data_dir`: `(private key file, public key file)`."""
    folder = data_dir / KEYS_FOLDER
    return folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE


def load_or_create(data_dir: Path) -> tuple[str, str]:
    """Return `(private_pem, public_pem)` kept under `data_dir/keys/`, generating the pair when it is missing.

    The private key file is created with mode 0600 and refused if others may read it. A lost public key file is
    written again from the private key. Safe when several processes start at once: one pair wins, all use it.
    """
    private_path, public_path = key_paths(data_dir)
    if not private_path.exists():
        if public_path.exists():
            raise FileNotFoundError(
                f"{private_path} is missing but {public_path} exists: restore the private key, or delete "
                f"{public_path} to make a new pair (tokens minted with the old key then stop working)")
        private_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_exclusively(private_path, generate_keypair()[0])
    _check_private(private_path)
    private_pem = private_path.read_text(encoding="ascii")
    public_pem = public_of(private_pem)
    if not public_path.exists() or public_path.read_text(encoding="ascii") != public_pem:
        _replace(public_path, public_pem, 0o644)
    return private_pem, public_pem


def public_of(private_pem: str) -> str:
    """The public key PEM of an Ed25519 private key PEM."""
    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    raise ValueError(f"{type(key).__name__} is not an Ed25519 private key: make a pair with `rig tokens keygen`")


def _check_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PermissionError(f"{path} may be read by others (mode {mode:o}): run `chmod 600 {path}`")


def _create_exclusively(path: Path, text: str) -> None:
    """Write `text` to `path` unless it exists; a reader never sees a half-written file."""
    temporary = _write_temporary(path, text, 0o600)
    try:
        # link() fails if the file exists, so of two processes creating the pair at once only one wins.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _replace(path: Path, text: str, mode: int) -> None:
    os.replace(_write_temporary(path, text, mode), path)


def _write_temporary(path: Path, text: str, mode: int) -> Path:
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    return Path(name)
