"""Where the tool finds its settings, topology, Valkey, PostgreSQL and signing key: the way the supervisor does.

Given URLs are used as they are; without them the embedded servers under the data folder are joined (or
started, as `make run` would). Every failure here is turned into a message that says what to do next.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import warnings
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click
import redis.asyncio as aioredis
from pydantic import ValidationError
from redis.exceptions import AuthenticationError, NoPermissionError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rich.console import Console

from rig_cli.settings import CliSettings
from rig_contracts import Names
from rig_identity.keys import key_paths, load_or_create
from rig_service.topology import Topology, load

if TYPE_CHECKING:
    from rig_embedded.servers import ServerUrls

T = TypeVar("T")

_NOT_NEEDED = "postgresql://not-needed-by-this-command/"
"""Handed to `resolve()` as the database URL by commands that use only Valkey, so it leaves PostgreSQL alone."""

_START_HINT = "start the system with `make run` (or `python -m rig_embedded`)"


def stdout() -> Console:
    """The console for results (tables, JSON): what a script may capture."""
    return Console(highlight=False, soft_wrap=False)


def stderr() -> Console:
    """The console for progress and notes, kept out of captured results."""
    return Console(stderr=True, highlight=False)


def print_json(data: object) -> None:
    """Write `data` as indented JSON on stdout, for machines."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def load_settings() -> CliSettings:
    """Read the `RIG_…` environment, refusing bad values with the variable to fix."""
    try:
        return CliSettings()
    except ValidationError as error:
        problems = "; ".join(f"RIG_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        raise click.ClickException(f"invalid setting ({problems}): fix the environment variable and run again") \
            from error


def names_of(settings: CliSettings) -> Names:
    """The Valkey key names of this installation (RIG_KEY_PREFIX)."""
    return Names(settings.key_prefix)


def topology_of(settings: CliSettings) -> Topology:
    """The topology file (RIG_TOPOLOGY, else topology.toml found upwards)."""
    try:
        return load(settings.topology)
    except FileNotFoundError as error:
        raise click.ClickException(f"{error}: run `rig` inside the repository, or set RIG_TOPOLOGY to the file") \
            from error
    except (ValueError, KeyError) as error:
        raise click.ClickException(f"the topology file is not usable ({error}): fix it, or point RIG_TOPOLOGY "
                                   "at another one") from error


def redis_url(settings: CliSettings) -> str:
    """Valkey's URL: RIG_REDIS_URL, else the embedded server under the data folder."""
    if settings.redis_url:
        return settings.redis_url
    return _resolve(settings, _NOT_NEEDED, None).redis_url


def server_urls(settings: CliSettings) -> ServerUrls:
    """PostgreSQL's and Valkey's URLs: the given ones, else the embedded servers under the data folder."""
    return _resolve(settings, settings.database_url, settings.redis_url)


def _resolve(settings: CliSettings, database_url: str | None, redis: str | None) -> ServerUrls:
    data_dir = Path(settings.data_dir)
    with warnings.catch_warnings():
        # The embedded PostgreSQL's platformdirs warns on hosts without XDG_RUNTIME_DIR; nothing an operator can do.
        warnings.simplefilter("ignore", UserWarning)
        from rig_embedded.servers import resolve
    if database_url and redis:
        return resolve(database_url, redis, data_dir)
    missing = " and ".join(n for n, url in (("PostgreSQL", database_url), ("Valkey", redis)) if not url)
    try:
        with stderr().status(f"joining (or starting) the embedded {missing} under {data_dir}/ …"):
            return resolve(database_url, redis, data_dir)
    except Exception as error:
        # Whatever the embedded servers raise, the remedy is the same: look at their folder or give URLs.
        raise click.ClickException(
            f"could not join or start the embedded {missing} under {data_dir}/ ({error}): {_START_HINT}, "
            "or set RIG_DATABASE_URL / RIG_REDIS_URL (RIG_DATA_DIR if it lives elsewhere)") from error


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The private key that signs tokens, and where it came from (said in errors about refused tokens)."""

    private_pem: str
    origin: str


def signing_key(settings: CliSettings) -> SigningKey:
    """RIG_TOKEN_PRIVATE_KEY, else the pair under `<data dir>/keys/` (created on first use)."""
    if settings.token_private_key is not None:
        return SigningKey(settings.token_private_key.get_secret_value(), "RIG_TOKEN_PRIVATE_KEY")
    data_dir = Path(settings.data_dir)
    try:
        private_pem, _ = load_or_create(data_dir)
    except (OSError, ValueError) as error:
        raise click.ClickException(f"no usable signing key: {error}") from error
    return SigningKey(private_pem, str(key_paths(data_dir)[0]))


def operator_subject() -> str:
    """The subject of the tokens the tool mints for itself: `cli:<login>`."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):
        login = "operator"
    return f"cli:{''.join(c for c in login if not c.isspace()) or 'operator'}"


def safe_url(url: str) -> str:
    """`url` with its password hidden, fit for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@contextlib.asynccontextmanager
async def valkey(url: str) -> AsyncIterator[aioredis.Redis]:
    """A client of Valkey at `url`, checked with PING so an unreachable server is reported with the remedy."""
    if url.startswith("valkey"):
        url = url.replace("valkey", "redis", 1)
    client = aioredis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        try:
            await client.ping()
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            raise click.ClickException(f"cannot reach Valkey at {safe_url(url)} ({error}): {_START_HINT}, "
                                       "or set RIG_REDIS_URL to the server") from error
        except AuthenticationError as error:
            raise click.ClickException(f"Valkey at {safe_url(url)} refused the login ({error}): put the right "
                                       "user and password in RIG_REDIS_URL") from error
        yield client
    finally:
        await client.aclose()


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's async work; a connection lost midway becomes a message with what to do next."""
    try:
        return asyncio.run(work)
    except NoPermissionError as error:
        raise click.ClickException(f"Valkey refused a command ({error}): use an admin user in RIG_REDIS_URL") \
            from error
    except (RedisConnectionError, RedisTimeoutError) as error:
        raise click.ClickException(f"lost Valkey midway ({error}): check it with `rig status`, then run the "
                                   "command again (each step is safe to repeat)") from error
