"""ServiceKit: database, migrations, bus, outbox relay, projection with inbox, token revocations, rebuilds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from fastapi import FastAPI

from rig_bus import Bus, Delivery, connect
from rig_bus.consumer import BatchHandler, ConsumerOptions, StreamConsumer
from rig_contracts import Event, Names
from rig_contracts.catalogue import TokenRevokedEvent
from rig_contracts.entries import EVENT_FIELD
from rig_db.inbox import InboxProjection
from rig_db.migrations import Migration, folder_migrations, library_migrations, migrate
from rig_db.pool import create_pool, schema_name
from rig_db.relay import OutboxRelay
from rig_embedded.servers import resolve
from rig_identity import REVOKED_TOKENS_SQL, Authenticator, RevocationSet
from rig_identity.keys import load_or_create
from rig_identity.revocation import load as load_revocations
from rig_identity.revocation import record as record_revocation
from rig_kit.housekeeping import Housekeeping
from rig_kit.rebuild import Rebuilder, Reset
from rig_service.faults import FaultPoints
from rig_service.settings import CommonSettings

if TYPE_CHECKING:
    from rig_db.inbox import Apply

log = logging.getLogger(__name__)

TASK_STOP_GRACE_S = 10.0
"""How long stopping waits for background jobs to end once cancelled."""

POOL_CLOSE_GRACE_S = 10.0
"""How long stopping waits for database connections in use before closing them anyway."""


@dataclass(frozen=True)
class Projection:
    """A read model fed by `rig:events`: how to apply a batch of new events and how to empty it for a rebuild."""

    apply: Apply
    reset: Reset


LiveHandler = Callable[["ServiceKit"], BatchHandler]
"""Builds a service's own handler of `rig:events` (instead of a projection through the inbox)."""

Job = Callable[["ServiceKit"], Coroutine[Any, Any, None]]
"""A background job run for the service's lifetime once it has started."""

StreamReader = Callable[["ServiceKit"], tuple[str, BatchHandler]]
"""Another stream a service reads in its own group (a stream name and its batch handler), besides `rig:events`."""


def refuse_embedded_servers(name: str, settings: CommonSettings) -> None:
    """Outside development, refuse to start without the database and Valkey URLs (never start embedded ones).

    An embedded PostgreSQL started by a production service would be an empty database of its own, quietly
    accepting writes no other replica sees.
    """
    if settings.environment == "development":
        return
    missing = [variable for variable, value in (("RIG_DATABASE_URL", settings.database_url),
                                                ("RIG_REDIS_URL", settings.redis_url)) if not value]
    if missing:
        raise ValueError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set, and "
            f"with RIG_ENVIRONMENT={settings.environment} no embedded server is started in their place. Set "
            f"{' and '.join(missing)} to your server's URL, or RIG_ENVIRONMENT=development for a local run "
            f"(where {name} starts embedded servers under RIG_DATA_DIR)")


def migration_plan(name: str, schema: str, migrations: Path | None) -> list[Migration]:
    """Migrations of a service: the library's tables, revoked tokens, then its own folder (`migrations`)."""
    own = folder_migrations(name, migrations) if migrations else []
    revoked = Migration("rig_identity", "0001_revoked_tokens.sql", REVOKED_TOKENS_SQL.format(schema=schema))
    return [*library_migrations(), revoked, *own]


class ServiceKit:
    """Everything a service needs at run time, started and stopped with its FastAPI app's lifespan."""

    def __init__(self, name: str, settings: CommonSettings, *, migrations: Path | None = None,
                 projection: Projection | None = None, live_handler: LiveHandler | None = None,
                 options: ConsumerOptions | None = None, jobs: Sequence[Job] = (),
                 readers: Sequence[StreamReader] = ()) -> None:
        self.name = name
        self.settings = settings
        self.names = Names(settings.key_prefix)
        self.schema = schema_name(name, settings.schema_suffix)
        self.faults = FaultPoints(settings.fault_point)
        self.revocations = RevocationSet()
        self._migrations = migrations
        self._projection = projection
        self._live_handler = live_handler
        self._jobs = jobs
        self._readers = readers
        self._options = options or ConsumerOptions()
        self._pool: asyncpg.Pool | None = None
        self._bus: Bus | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.rebuilder: Rebuilder | None = None
        refuse_embedded_servers(name, settings)
        edge_secret = settings.edge_secret.get_secret_value() if settings.edge_secret else None
        self.authenticator = Authenticator(self._public_key(), self.revocations, settings.trusted_networks,
                                           edge_secret)

    def _public_key(self) -> str:
        if self.settings.token_public_key:
            return self.settings.token_public_key
        return load_or_create(Path(self.settings.data_dir))[1]

    @property
    def pool(self) -> asyncpg.Pool:
        """The service's database pool (search_path = its schema)."""
        if self._pool is None:
            raise RuntimeError(f"{self.name} used its database before start-up finished")
        return self._pool

    @property
    def bus(self) -> Bus:
        """The started bus."""
        if self._bus is None:
            raise RuntimeError(f"{self.name} used the bus before start-up finished")
        return self._bus

    def plan(self) -> list[Migration]:
        """Migrations of this service: the library's tables, revoked tokens, then its own folder."""
        return migration_plan(self.name, self.schema, self._migrations)

    async def start(self) -> None:
        """Reach the servers, migrate, load revocations, start consuming and relaying."""
        urls = resolve(self.settings.database_url, self.settings.redis_url, Path(self.settings.data_dir))
        self._pool = await create_pool(urls.database_url, self.schema)
        await migrate(self._pool, self.schema, self.plan())
        async with self._pool.acquire() as conn:
            await load_revocations(conn, self.schema, into=self.revocations)
        self._bus = connect(urls.redis_url, self.names, self.faults)
        consumer = f"{self.name}-{socket.gethostname()}"
        projection = InboxProjection(self._pool, self.schema, self._apply)
        handler = self._live_handler(self) if self._live_handler else projection
        live = self._bus.consumer(self.names.events, self.name, consumer, handler, self._options)
        if self._projection is not None:
            if not isinstance(live, StreamConsumer):
                raise TypeError("rebuilds need the Redis bus's consumer")
            bus, replays = self._bus, self.names.replay(self.name)
            self.rebuilder = Rebuilder(self._pool, self._projection.reset, projection, live,
                                       lambda: bus.trim(replays))
            self._bus.consumer(replays, self.name, consumer, self.rebuilder.handle, self._options)
        for reader in self._readers:
            stream, read = reader(self)
            self._bus.consumer(stream, self.name, consumer, read, self._options)
        # The group gives each TOKEN_REVOKED to one replica (which records it); every replica also hears it here.
        self._bus.follow(self.names.events, self.name, self._hear_revocations)
        await self._bus.start()
        async with self._pool.acquire() as conn:  # again, now that the follower covers what the group has not
            await load_revocations(conn, self.schema, into=self.revocations)
        relay = OutboxRelay(self._pool, self._bus.publisher, self.schema, faults=self.faults)
        self.spawn(relay.run(), f"{self.name} outbox relay")
        self.spawn(Housekeeping(self.name, self.schema, self.revocations).run(self._pool), f"{self.name} housekeeping")
        for job in self._jobs:
            self.spawn(job(self), f"{self.name} {getattr(job, '__name__', 'job')}")
        log.info("%s started: schema %s, key prefix %r", self.name, self.schema, self.settings.key_prefix)

    def spawn(self, job: Coroutine[Any, Any, None], name: str) -> None:
        """Run a background job for the service's lifetime (cancelled at stop)."""
        self._tasks.append(asyncio.create_task(job, name=name))

    async def note_revocations(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        """Drop tokens that TOKEN_REVOKED events revoke, at once and durably (in the caller's transaction)."""
        for event in events:
            if isinstance(event, TokenRevokedEvent) and self.revocations.apply(event):
                await record_revocation(conn, self.schema, event.data.jti, event.data.expires_at)

    async def _hear_revocations(self, deliveries: Sequence[Delivery]) -> None:
        """Drop revoked tokens in this replica at once (in memory: the group's consumer records them)."""
        for delivery in deliveries:
            if "TOKEN_REVOKED" not in delivery.fields.get(EVENT_FIELD, ""):
                continue  # most entries: skip the parse
            try:
                self.revocations.apply(delivery.event)
            except ValueError as error:  # unreadable here; the group's consumer dead-letters it
                log.warning("%s: entry %s looks like a revocation but does not parse: %s", self.name,
                            delivery.entry_id, error)

    async def _apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        await self.note_revocations(conn, events)
        if self._projection is not None:
            await self._projection.apply(conn, events)

    async def stop(self) -> None:
        """Stop background work, the bus and the pool."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            done, stuck = await asyncio.wait(self._tasks, timeout=TASK_STOP_GRACE_S)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.warning("%s: %s had failed: %r", self.name, task.get_name(), task.exception())
            for task in stuck:  # never wait forever on a job that ignores its cancellation
                log.error("%s: %s did not stop within %.0fs; leaving it", self.name, task.get_name(),
                          TASK_STOP_GRACE_S)
        self._tasks.clear()
        if self._bus is not None:
            await self._bus.stop()
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), POOL_CLOSE_GRACE_S)
            except TimeoutError:
                log.warning("%s: database connections still busy after %.0fs; closing them", self.name,
                            POOL_CLOSE_GRACE_S)
                self._pool.terminate()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        """FastAPI lifespan: start before serving, stop after."""
        await self.start()
        try:
            yield
        finally:
            await self.stop()
