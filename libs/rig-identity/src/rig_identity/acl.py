"""Valkey ACL users (docs/design.md section 3): each agent pool touches only its own keys, services only the prefix.

Rules use plain `~pattern` and `&channel` (no selectors), so they work on Redis 6.2, Redis 7 and Valkey.
Every call resets the user's password, keys, channels and commands first, so running it again with the same
arguments changes nothing and with a new password rotates it.
"""

from __future__ import annotations

import hashlib
import re

import redis.asyncio as aioredis

from rig_contracts.names import Names

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")

_RESET = ("resetpass", "resetkeys", "resetchannels", "-@all")

# Connection housekeeping clients do on their own (HELLO, AUTH, CLIENT SETNAME …); KILL, PAUSE and the like
# stay refused. CLIENT is one @dangerous command on 6.2, so its harmless subcommands are granted after -@dangerous.
_CONNECTION = ("+ping", "+echo", "+auth", "+hello", "+select", "+reset")
_CLIENT = ("+client|setname", "+client|getname", "+client|id")

_KEY_HOUSEKEEPING = ("+del", "+unlink", "+exists", "+type", "+expire", "+pexpire", "+expireat", "+pexpireat",
                     "+ttl", "+pttl", "+persist")

AGENT_COMMANDS = (*_CONNECTION, "+@stream", "+@list", "+@string", "+@transaction", *_KEY_HOUSEKEEPING, "+publish",
                  "-@dangerous", *_CLIENT)
"""What an agent may run: streams, lists, strings with a TTL, PUBLISH; nothing @dangerous (FLUSHALL, KEYS, …)."""

SERVICE_COMMANDS = (*_CONNECTION, "+@read", "+@write", "+@keyspace", "+@pubsub", "+@transaction", "+@scripting",
                    "-@dangerous", "-@admin", *_CLIENT)
"""What a service may run: data, pub/sub, transactions and scripts; nothing @dangerous or @admin."""


def user_name(names: Names, role: str, name: str) -> str:
    """The ACL user of `role` ("agent" or "service") `name`: `{prefix without a trailing ':'}-{role}-{name}`."""
    base = names.prefix.removesuffix(":")
    user = f"{base}-{role}-{name}" if base else f"{role}-{name}"
    if not name or any(c.isspace() or c == "\0" for c in user):
        raise ValueError(f"{user!r} is not a usable ACL user name: use a prefix and name without spaces")
    return user


def agent_user(names: Names, agent: str) -> str:
    """The ACL user of an agent pool, e.g. `agent-dev-e-node` (`rig-agent-dev-e-node` with prefix `rig:`)."""
    return user_name(names, "agent", agent)


def service_user(names: Names, service: str) -> str:
    """The ACL user of a service, e.g. `service-router` (`rig-service-router` with prefix `rig:`)."""
    return user_name(names, "service", service)


def agent_rules(names: Names, agent: str, password: str) -> list[str]:
    """The ACL SETUSER rules of an agent pool: its own keys and log channel, never `rig:events`."""
    sessions = names.session("", 0).removesuffix("#0")
    keys = [_exact(names.assignments(agent)), _exact(names.signal(agent)), _exact(names.busy(agent)),
            _exact(sessions) + "*", _exact(names.runlogs)]
    return [*_RESET, "on", _password(password), *(f"~{k}" for k in keys), f"&{_exact(names.logs(agent))}",
            *AGENT_COMMANDS]


def service_rules(names: Names, password: str) -> list[str]:
    """The ACL SETUSER rules of a service: every key and channel under the prefix."""
    everything = _exact(names.prefix) + "*"
    # PSUBSCRIBE is checked against the allowed patterns literally, so the dashboard's `logs:*` is listed too.
    all_logs = _exact(names.logs("")) + "*"
    return [*_RESET, "on", _password(password), f"~{everything}", f"&{everything}", f"&{all_logs}",
            *SERVICE_COMMANDS]


async def ensure_agent_user(redis: aioredis.Redis, names: Names, agent: str, password: str) -> str:
    """Create or update the ACL user of `agent` with `password`; return the user name."""
    user = agent_user(names, agent)
    await _set_user(redis, user, agent_rules(names, agent, password))
    return user


async def ensure_service_user(redis: aioredis.Redis, names: Names, service: str, password: str) -> str:
    """Create or update the ACL user of `service` with `password`; return the user name."""
    user = service_user(names, service)
    await _set_user(redis, user, service_rules(names, password))
    return user


async def _set_user(redis: aioredis.Redis, user: str, rules: list[str]) -> None:
    # One ACL SETUSER, so the user never exists with only part of its rules. `acl_setuser` would reorder them.
    await redis.execute_command("ACL", "SETUSER", user, *rules)  # type: ignore[no-untyped-call]


def _exact(text: str) -> str:
    """`text` as a glob pattern matching only itself."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


def _password(password: str) -> str:
    if not password:
        raise ValueError("an ACL user needs a password: generate one, e.g. `openssl rand -hex 32`")
    # The server is sent only the SHA-256 of the password, so it never appears in a command in flight.
    return "#" + hashlib.sha256(password.encode()).hexdigest()
