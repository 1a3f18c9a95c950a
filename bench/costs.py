"""Costs bench: how fast the projection rebuilds from events, and `GET /api/costs?group_by=day`'s query over
90 days of 1,000 runs a day.

The rebuild figure applies recorded runs (RUN_STARTED, three RUN_STEPs, RUN_FINISHED) through the projection in
batches of 100, one transaction each, as a replay does (without the inbox rows and the Redis reads around it).
The query figure times the roll-up's SQL against 90,000 runs written straight into the table (its triggers keep
the day totals, as for any write).

A figure that misses its target carries where the time went: for the rebuild, the share spent inside `apply`
against BEGIN/COMMIT (a commit waits for the WAL flush) and a cProfile of a second rebuild; for the query, its plan.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from bench.report import Figure, write
from bench.teardown import cleanup
from rig_contracts import Event, Names
from rig_contracts.catalogue import RunFinishedEvent, RunStartedEvent, RunStepEvent
from rig_costs.app import MIGRATIONS
from rig_costs.handlers import costs_projection
from rig_costs.projection import reset
from rig_costs.reads import RunFilter, day_totals_query, roll_up
from rig_db.inbox import Apply
from rig_db.migrations import folder_migrations, library_migrations, migrate
from rig_db.pool import create_pool, schema_name
from rig_testing import servers

RUNS = 2000
BATCH = 100
DAYS, PER_DAY = 90, 1000
QUERIES = 50
TARGET_EVENTS_S = 20_000.0
TARGET_P99_MS = 100.0
USAGE = {"input_tokens": 1200, "output_tokens": 300, "cache_read_tokens": 40_000, "cache_write_tokens": 2000}


def run_events(n: int, start: datetime) -> list[Event]:
    run_id, subject, source = f"bench-{n}", f"bench/repo#{n % 50 + 1}", f"agent:dev-e-{n % 3}"
    data = {"repo": "bench/repo", "number": n % 50 + 1, "run_id": run_id}
    events: list[Event] = [RunStartedEvent.of(source=source, subject=subject, key=f"run:{run_id}:started",
                                                 at=start, data={**data, "agent": f"dev-e-{n % 3}",
                                                                 "provider": "claude",
                                                                 "model": "claude-sonnet-4-5"})]
    for step, usage in ((1, {}), (2, USAGE), (3, {})):
        events.append(RunStepEvent.of(source=source, subject=subject, key=f"run:{run_id}:step:{step}", at=start,
                                      data={"run_id": run_id, "step": ("clone", "provider", "push")[step - 1],
                                            "status": "succeeded", "usage": usage}))
    events.append(RunFinishedEvent.of(source=source, subject=subject, key=f"run:{run_id}:finished", at=start,
                                      data={**data, "status": "succeeded", "usage": USAGE, "duration_ms": 60_000}))
    return events


async def main() -> None:
    database_url, redis_url = servers.database_url(), servers.redis_url()
    suffix = f"_bench{uuid.uuid4().hex[:8]}"
    names = Names(f"bench:{suffix}:")
    schema = schema_name("costs", suffix)
    pool = await create_pool(database_url, schema)
    try:
        await migrate(pool, schema, [*library_migrations(), *folder_migrations("costs", MIGRATIONS)])
        projection = costs_projection(names)
        now = datetime.now(UTC)
        events = [e for n in range(RUNS) for e in run_events(n, now - timedelta(minutes=n))]
        rate, inside = await rebuild(pool, projection.apply, events)
        rebuild_profile: dict[str, Any] = {}
        if rate < TARGET_EVENTS_S:
            async with pool.acquire() as conn:
                await reset(conn)
            rebuild_profile = {"inside_apply_share": round(inside, 3), **await profiled(pool, projection.apply, events)}

        async with pool.acquire() as conn:
            await reset(conn)
            await conn.execute(
                "INSERT INTO runs (run_id, agent, repo, repo_key, number, subject, provider, model, status, "
                "started_at, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd) "
                "SELECT 'r' || g, 'dev-e-' || (g % 3), 'bench/repo', 'bench/repo', g % 50 + 1, "
                "'bench/repo#' || (g % 50 + 1), 'claude', 'claude-sonnet-4-5', 'succeeded', "
                "$1::timestamptz - make_interval(secs => g * $2::float8), 1200, 300, 40000, 2000, 0.0312 "
                "FROM generate_series(1, $3) g", now, DAYS * 86400 / (DAYS * PER_DAY), DAYS * PER_DAY)
            await conn.execute("ANALYZE runs")
            await conn.execute("ANALYZE run_days")
            timings = []
            where = RunFilter(since=now - timedelta(days=DAYS))
            for _ in range(QUERIES):
                began = time.perf_counter()
                found = await roll_up(conn, "day", where)
                timings.append((time.perf_counter() - began) * 1000)
            assert len(found.groups) >= DAYS, len(found.groups)
            p99 = statistics.quantiles(timings, n=100)[98]
            query_profile = await plan(conn, where) if p99 > TARGET_P99_MS else {}
    finally:
        await pool.close()
        await cleanup(database_url, suffix, aioredis.Redis.from_url(redis_url), names)
    write("costs", [
        Figure("costs: rebuild rate (projection, batches of 100)", rate, "events/s", TARGET_EVENTS_S,
               profile=rebuild_profile),
        Figure("costs: group_by=day over 90 days of 1,000 runs, p50", statistics.median(timings), "ms"),
        Figure("costs: group_by=day over 90 days of 1,000 runs, p99", p99, "ms", TARGET_P99_MS, lower_is_better=True,
               profile=query_profile),
    ], {"runs": RUNS, "events": len(events), "batch": BATCH, "rows": DAYS * PER_DAY, "queries": QUERIES})


async def rebuild(pool: asyncpg.Pool, apply: Apply, events: list[Event]) -> tuple[float, float]:
    """Events per second through `apply`, batches of BATCH in a transaction each; and the share of the time spent
    inside `apply` (the rest: acquiring, BEGIN and COMMIT)."""
    inside = 0.0
    began = time.perf_counter()
    for i in range(0, len(events), BATCH):
        async with pool.acquire() as conn, conn.transaction():
            start = time.perf_counter()
            await apply(conn, events[i:i + BATCH])
            inside += time.perf_counter() - start
    took = time.perf_counter() - began
    return len(events) / took, inside / took


async def profiled(pool: asyncpg.Pool, apply: Apply, events: list[Event]) -> dict[str, Any]:
    """A second rebuild under cProfile: the functions with the most time of their own (waiting for PostgreSQL shows
    as the event loop's select)."""
    profile = cProfile.Profile()
    profile.enable()
    await rebuild(pool, apply, events)
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]  # type: ignore[attr-defined]
    return {"profiled_s": round(total, 3), "top_own_time": [
        {"function": f"{file.rsplit('/', 1)[-1]}:{line}:{name}", "own_s": round(own, 4), "calls": calls}
        for (file, line, name), (_cc, calls, own, _cum, _callers) in rows]}


async def plan(conn: asyncpg.Connection, where: RunFilter) -> dict[str, Any]:
    """The roll-up's plan with its timings, when it misses."""
    found = day_totals_query(where)
    if found is None:
        return {}
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {found[0]}", *found[1])
    return {"plan": [r[0] for r in rows]}


if __name__ == "__main__":
    asyncio.run(main())
