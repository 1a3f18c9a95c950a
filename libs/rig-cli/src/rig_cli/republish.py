"""`rig republish --since T`: feed recent outbox rows to Valkey again after it lost data (docs/design.md section 4).

Ids Valkey still knows are skipped by the publish script, and consumers' inboxes drop what they had handled,
so running it twice, or over a window wider than needed, is safe.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import click
import redis.asyncio as aioredis
from rich.table import Table

from rig_bus import Publisher
from rig_cli import bootstrap
from rig_contracts import Names
from rig_db.pool import create_pool, schema_name
from rig_db.relay import RETENTION, republish_since

_AGO = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO time (local time when it has no zone) or how long ago (`30m`, `2h`, `7d`, `1h30m`), in UTC."""
    now = now or datetime.now(UTC)
    ago = _AGO.match(text.strip().lower())
    if ago and any(ago.groups()):
        days, hours, minutes, seconds = (int(part or 0) for part in ago.groups())
        return now - timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither an ISO time (2026-05-01T12:00, 2026-05-01T12:00Z) nor a "
                                 "time ago (30m, 2h, 7d, 1h30m)", param_hint="--since") from None
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Republished:
    """One service's outcome: its schema, and how many rows were appended anew (None: it has no outbox)."""

    service: str
    schema: str
    appended: int | None


async def has_outbox(conn: asyncpg.Connection, schema: str) -> bool:
    """Whether `schema` has an `outbox` table."""
    found = await conn.fetchval("SELECT to_regclass(format('%I.outbox', $1::text)) IS NOT NULL", schema)
    return bool(found)


async def republish(database_url: str, client: aioredis.Redis, names: Names, services: list[str],
                    schema_suffix: str, since: datetime) -> list[Republished]:
    """Republish the outbox of each service's schema created since `since`, one service after the other."""
    conn = await asyncpg.connect(database_url)
    try:
        schemas = {s: schema_name(s, schema_suffix) for s in services}
        present = {s: await has_outbox(conn, schema) for s, schema in schemas.items()}
    finally:
        await conn.close()
    publisher = Publisher(client, names)
    results: list[Republished] = []
    with bootstrap.stderr().status("republishing") as progress:
        for service, schema in schemas.items():
            if not present[service]:
                results.append(Republished(service, schema, None))
                continue
            progress.update(f"republishing the outbox of {service} (schema {schema}) since {since.isoformat()}")
            pool = await create_pool(database_url, schema, min_size=1, max_size=1)
            try:
                results.append(Republished(service, schema, await republish_since(pool, publisher, since)))
            finally:
                await pool.close()
    return results


@click.command("republish")
@click.option("--since", "since_text", required=True, metavar="TIME",
              help="ISO time (local time unless it names a zone) or how long ago: 30m, 2h, 7d, 1h30m.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines instead of a table.")
def republish_command(since_text: str, as_json: bool) -> None:
    """Publish every service's outbox rows written since TIME again, for events Valkey lost."""
    since = parse_since(since_text)
    settings = bootstrap.load_settings()
    topology = bootstrap.topology_of(settings)
    # Every service of the table: its schema, not this machine's installed code, says whether it has an outbox.
    services = list(topology.services)
    urls = bootstrap.server_urls(settings)
    names = bootstrap.names_of(settings)

    async def work() -> list[Republished]:
        async with bootstrap.valkey(urls.redis_url) as client:
            try:
                return await republish(urls.database_url, client, names, services, settings.schema_suffix, since)
            except (OSError, asyncpg.PostgresError) as error:
                raise click.ClickException(
                    f"PostgreSQL at {bootstrap.safe_url(urls.database_url)} failed ({error}): check it is running "
                    "(`make run` starts it) or set RIG_DATABASE_URL, then run again (republishing twice is safe)") \
                    from error

    results = bootstrap.run(work())
    if as_json:
        bootstrap.print_json({"since": since.isoformat(), "services": [asdict(r) for r in results]})
        return
    _show(results, since)


def _show(results: list[Republished], since: datetime) -> None:
    console = bootstrap.stdout()
    if since < datetime.now(UTC) - RETENTION:
        console.print(f"[yellow]Note: outbox rows are kept {RETENTION.days} days; older ones are gone.[/]")
    if not results:
        console.print("No service of the topology is installed here, so there was nothing to republish.")
        return
    console.print(f"Outbox rows written since {since.replace(microsecond=0).isoformat()}:")
    table = Table()
    for column in ("service", "schema", "appended anew"):
        table.add_column(column, justify="left" if column != "appended anew" else "right")
    for r in results:
        table.add_row(r.service, r.schema, "no outbox table" if r.appended is None else str(r.appended))
    console.print(table)
    total = sum(r.appended or 0 for r in results)
    console.print(f"{total} event(s) appended anew; consumers drop the ones they had already handled.")
