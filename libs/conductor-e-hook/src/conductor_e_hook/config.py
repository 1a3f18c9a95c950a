"""Where the hook reports to and as whom: flags, then the environment, then a TOML file."""

from __future__ import annotations

import base64
import binascii
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

URL_VARIABLE = "CONDUCTOR_E_URL"
TOKEN_VARIABLE = "CONDUCTOR_E_TOKEN"  # noqa: S105  # the variable's name, not a secret
AGENT_ID_VARIABLE = "CONDUCTOR_E_AGENT_ID"
TIMEOUT_VARIABLE = "CONDUCTOR_E_TIMEOUT"
CONFIG_VARIABLE = "CONDUCTOR_E_CONFIG"

DEFAULT_TIMEOUT = 2.0
"""Seconds one report may take in all; the person's tool waits for the hook, so this stays short."""


class ConfigError(Exception):
    """The hook cannot tell where to report or as whom; the message says what to set."""


@dataclass(frozen=True)
class Config:
    """A resolved configuration: the conductor's base URL, the bearer token, the agent id and the time budget."""

    url: str
    token: str
    agent_id: str
    timeout: float

    @property
    def events_url(self) -> str:
        """The ingest endpoint that takes the public agent runtime's camelCase events."""
        return f"{self.url}/api/events"


def default_config_path(env: Mapping[str, str]) -> Path:
    """`$CONDUCTOR_E_CONFIG`, else `conductor-e/config.toml` under `$XDG_CONFIG_HOME` (default `~/.config`)."""
    if env.get(CONFIG_VARIABLE):
        return Path(env[CONFIG_VARIABLE]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "conductor-e" / "config.toml"


def _file_values(path: Path) -> dict[str, object]:
    """The file's table, or nothing when the file is absent (the environment may say everything)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML ({error})") from error


def token_subject(token: str) -> str | None:
    """The `sub` claim of a JWT, read without verifying it (ingest verifies; we only need the name to send)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    return subject if isinstance(subject, str) and subject else None


def agent_id_of(token: str) -> str | None:
    """The name part of the token's subject: `human:alice` speaks as agent id `alice`."""
    subject = token_subject(token)
    if subject is None:
        return None
    return subject.split(":", 1)[-1] or None


def _text(value: object, name: str, path: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"`{name}` in {path} must be a string")
    return value.strip() or None


def _timeout(value: object, source: str) -> float:
    try:
        timeout = float(value)  # type: ignore[arg-type]  # any of str, int, float; checked just below
    except (TypeError, ValueError):
        raise ConfigError(f"timeout from {source} must be a number of seconds, not {value!r}") from None
    if not 0 < timeout <= 60:
        raise ConfigError(f"timeout from {source} must be between 0 and 60 seconds, not {timeout}")
    return timeout


def load(
    env: Mapping[str, str],
    *,
    config_path: Path | None = None,
    url: str | None = None,
    agent_id: str | None = None,
    timeout: float | None = None,
) -> Config:
    """Resolve the configuration: a flag wins over the environment, which wins over the file.

    Raises ConfigError, naming the variable or file key to set, when the URL or token is missing or malformed.
    """
    path = config_path or default_config_path(env)
    values = _file_values(path)
    base = url or env.get(URL_VARIABLE) or _text(values.get("url"), "url", path)
    token = env.get(TOKEN_VARIABLE) or _text(values.get("token"), "token", path)
    if not base or not token:
        missing = " and ".join(n for n, v in ((URL_VARIABLE, base), (TOKEN_VARIABLE, token)) if not v)
        raise ConfigError(f"not configured: set {missing} or write url/token in {path}")
    base = base.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"conductor URL must start with http:// or https://, not {base!r}")
    name = agent_id or env.get(AGENT_ID_VARIABLE) or _text(values.get("agent_id"), "agent_id", path)
    name = name or agent_id_of(token)
    if not name:
        raise ConfigError(f"cannot tell the agent id from the token: set {AGENT_ID_VARIABLE} or agent_id in {path}")
    if timeout is not None:
        seconds = _timeout(timeout, "--timeout")
    elif env.get(TIMEOUT_VARIABLE):
        seconds = _timeout(env[TIMEOUT_VARIABLE], TIMEOUT_VARIABLE)
    elif "timeout" in values:
        seconds = _timeout(values["timeout"], str(path))
    else:
        seconds = DEFAULT_TIMEOUT
    return Config(url=base, token=token.strip(), agent_id=name, timeout=seconds)


def environment() -> dict[str, str]:
    """A copy of the process environment (read once, at the command's start, never at import)."""
    return dict(os.environ)
