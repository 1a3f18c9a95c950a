"""The missed-delivery sweep: a periodic job that asks GitHub to redeliver webhooks ingest never stored.

GitHub does not retry a failed delivery. Every `RIG_INGEST_SWEEP_INTERVAL_S` one ingest process (a PostgreSQL
advisory lock per pass; the others skip) lists the conductor App's deliveries of the look-back window through
rig_github's client (`GET /app/hook/deliveries`, as the App), compares their GUIDs with the stored ones, and
asks for a redelivery (`POST /app/hook/deliveries/{id}/attempts`) of each GUID `rig_ingest.recovery` picks.
Requests are written to `redeliveries`, so no process asks twice while a redelivery is on its way; a later
pass that finds the GUID stored counts it as recovered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from prometheus_client import Counter, Gauge

from rig_github import Delivery, GitHubClient, GitHubError, GitHubSettings, Role
from rig_ingest import recovery
from rig_ingest.settings import IngestSettings
from rig_kit import ServiceKit

log = logging.getLogger(__name__)

PASSES = Counter("rig_ingest_sweep_passes_total", "Missed-delivery sweep passes, by outcome "
                 "(done, locked: another process holds the pass, recent: a pass ran moments ago, failed)",
                 ["outcome"])
FOUND = Counter("rig_ingest_sweep_found_total", "Delivery GUIDs the sweep judged, by verdict (stored, "
                "failed_but_stored, missing, waiting: a redelivery is on its way, gave_up)", ["verdict"])
REDELIVERIES = Counter("rig_ingest_sweep_redeliveries_total", "Redeliveries the sweep asked GitHub for, by "
                       "outcome (requested, error)", ["outcome"])
RECOVERED = Counter("rig_ingest_sweep_recovered_total",
                    "Deliveries stored after the sweep asked for their redelivery")
LAST_PASS = Gauge("rig_ingest_sweep_last_pass_timestamp_seconds", "When this process last finished a sweep pass")

GITHUB_KEEPS_DELIVERIES = timedelta(days=3)
"""GitHub lists a delivery for 3 days; a request row older than that can no longer matter."""

SWEEP_ROW = "github"
"""The row of `sweep_passes` the GitHub sweep keeps."""

_STORED = "SELECT guid FROM deliveries WHERE guid = ANY($1::text[])"
_ASKED = ("SELECT guid, attempts, last_asked_at, newest_id_then FROM redeliveries "
          "WHERE guid = ANY($1::text[]) AND recovered_at IS NULL")
_RECOVERED = """
UPDATE redeliveries r SET recovered_at = $1 FROM deliveries d
WHERE r.recovered_at IS NULL AND d.guid = r.guid RETURNING r.guid
"""
_FORGET = "DELETE FROM redeliveries WHERE last_asked_at < $1"
_ASK = """
INSERT INTO redeliveries (guid, event, attempts, last_asked_at, newest_id_then) VALUES ($1, $2, 1, $3, $4)
ON CONFLICT (guid) DO UPDATE SET attempts = redeliveries.attempts + 1, last_asked_at = excluded.last_asked_at,
    newest_id_then = excluded.newest_id_then, recovered_at = NULL
"""
_FINISHED = """
INSERT INTO sweep_passes (name, finished_at) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET finished_at = excluded.finished_at
"""


@dataclass(frozen=True)
class PassReport:
    """What one pass did (None fields: the pass was skipped and `skipped` says why)."""

    skipped: str | None = None
    listed: int = 0
    requested: tuple[str, ...] = ()
    errors: int = 0
    recovered: tuple[str, ...] = ()
    plan: recovery.Plan[Delivery] | None = None


class MissedDeliverySweep:
    """The sweep of one ingest process: `await sweep.pass_once(pool, client)`, or `jobs=[sweep.job]`."""

    def __init__(self, settings: IngestSettings, github: GitHubSettings,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self.github = github
        self._clock = clock

    def client(self) -> GitHubClient:
        """A client that acts as the conductor App (the App whose webhook ingest receives)."""
        return GitHubClient(self.github, Role.CONDUCTOR)

    async def job(self, kit: ServiceKit) -> None:
        """The kit job: a pass at start, then one every interval, until the service stops."""
        lock = f"rig-ingest-sweep:{kit.schema}"
        async with self.client() as client:
            while True:
                try:
                    await self.pass_once(kit.pool, client, lock=lock)
                except Exception:
                    # One failed pass (GitHub or the database away) must not end the job: the next one retries.
                    PASSES.labels("failed").inc()
                    log.exception("missed-delivery sweep pass failed; the next one is in %.0f s",
                                  self.settings.ingest_sweep_interval_s)
                await asyncio.sleep(self.settings.ingest_sweep_interval_s)

    async def pass_once(self, pool: asyncpg.Pool, client: GitHubClient, *,
                        lock: str = "rig-ingest-sweep") -> PassReport:
        """One pass, if this process gets the pass's advisory lock and no pass finished moments ago."""
        async with pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock):
                PASSES.labels("locked").inc()
                return PassReport(skipped="locked")
            try:
                now = self._clock()
                last = await conn.fetchval("SELECT finished_at FROM sweep_passes WHERE name = $1", SWEEP_ROW)
                # Several processes each run the job: whoever comes first in an interval makes the pass.
                if last is not None and (now - last).total_seconds() < self.settings.ingest_sweep_interval_s / 2:
                    PASSES.labels("recent").inc()
                    return PassReport(skipped="recent")
                report = await self._pass(conn, client, now)
                await conn.execute(_FINISHED, SWEEP_ROW, self._clock())
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", lock)
        PASSES.labels("done").inc()
        LAST_PASS.set_to_current_time()
        return report

    async def _pass(self, conn: asyncpg.Connection, client: GitHubClient, now: datetime) -> PassReport:
        recovered = tuple(row["guid"] for row in await conn.fetch(_RECOVERED, now))
        RECOVERED.inc(len(recovered))
        await conn.execute(_FORGET, now - GITHUB_KEEPS_DELIVERIES)
        deliveries = await self.recent(client, now - timedelta(seconds=self.settings.ingest_sweep_lookback_s))
        guids = list({d.guid for d in deliveries})
        stored = {row["guid"] for row in await conn.fetch(_STORED, guids)}
        asked = {row["guid"]: recovery.Asked(row["attempts"], row["last_asked_at"], row["newest_id_then"])
                 for row in await conn.fetch(_ASKED, guids)}
        plan = recovery.plan(deliveries, stored, asked, now=now,
                             retry_after_s=self.settings.ingest_sweep_retry_after_s,
                             max_attempts=self.settings.ingest_sweep_max_attempts)
        for verdict in ("stored", "failed_but_stored", "missing", "waiting", "gave_up"):
            FOUND.labels(verdict).inc(getattr(plan, verdict))
        newest_id = max((d.id for d in deliveries), default=0)
        requested: list[str] = []
        errors = 0
        for delivery in plan.redeliver:
            try:
                await client.redeliver(delivery.id)
            except GitHubError as error:
                errors += 1
                REDELIVERIES.labels("error").inc()
                log.warning("redelivery of %s (delivery %d) was refused: %s", delivery.guid, delivery.id, error)
                continue
            REDELIVERIES.labels("requested").inc()
            requested.append(delivery.guid)
            await conn.execute(_ASK, delivery.guid, delivery.event, now, newest_id)
        if requested or plan.gave_up:
            log.info("missed-delivery sweep: %d deliveries listed, %d missing, %d redeliveries asked for, "
                     "%d given up", len(deliveries), plan.missing, len(requested), plan.gave_up)
        return PassReport(listed=len(deliveries), requested=tuple(requested), errors=errors, recovered=recovered,
                          plan=plan)

    async def recent(self, client: GitHubClient, since: datetime) -> list[Delivery]:
        """The deliveries attempted since `since`, newest first, paging until older ones or the page cap."""
        found: list[Delivery] = []
        cursor: str | None = None
        for _ in range(self.settings.ingest_sweep_max_pages):
            page = await client.list_deliveries(per_page=100, cursor=cursor)
            kept = recovery.within(page.deliveries, since)
            found += kept
            cursor = page.next_cursor
            if cursor is None or len(kept) < len(page.deliveries):
                return found
        log.warning("missed-delivery sweep read its %d-page cap before the end of its %.0f s look-back window",
                    self.settings.ingest_sweep_max_pages, self.settings.ingest_sweep_lookback_s)
        return found


def sweep_of(settings: IngestSettings, github: GitHubSettings) -> MissedDeliverySweep | None:
    """The sweep to run, or None (with a log line saying why) when it is off or has no App to act as."""
    if not settings.ingest_sweep_enabled:
        log.info("missed-delivery sweep is off (RIG_INGEST_SWEEP_ENABLED=false)")
        return None
    if github.app(Role.CONDUCTOR) is None:
        log.warning("missed-delivery sweep is off: no conductor App credentials (set RIG_GITHUB_CONDUCTOR_APP_ID, "
                    "RIG_GITHUB_CONDUCTOR_INSTALLATION_ID and RIG_GITHUB_CONDUCTOR_PRIVATE_KEY(_FILE)); "
                    "webhooks GitHub fails to deliver will not be recovered")
        return None
    return MissedDeliverySweep(settings, github)
