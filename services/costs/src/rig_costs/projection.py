"""The cost tracker's writes (asyncpg): runs, their steps and calls outside a run, as the events tell them.

Every write is an upsert keyed by the run (and the step's number), so an event applied twice, or events of a run
arriving out of order (a step before its RUN_STARTED), leave the same rows. A run's tokens are RUN_FINISHED's
totals once it has finished; until then, the sum of its steps' (a running run shows its cost so far). Tokens are
never added on top of each other, so nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from rig_contracts.payloads import Usage
from rig_costs.domain import Pricing, cost_gap

REPORTED = "reported by the agent"
"""`price_source` of a run whose model was not named: the agent's own figure stands (it priced the model it ran)."""

_USAGE = "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens"


@dataclass(frozen=True, slots=True)
class RunStart:
    """What RUN_STARTED says."""

    run_id: str
    agent: str
    repo: str
    number: int
    subject: str
    provider: str
    model: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RunEnd:
    """What RUN_FINISHED says."""

    run_id: str
    repo: str
    number: int
    subject: str
    status: str
    turns: int
    usage: Usage
    reported_cost_usd: Decimal | None
    provider_cost_usd: Decimal | None
    duration_ms: int
    duration_api_ms: int
    pr_number: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Step:
    """What one RUN_STEP says."""

    run_id: str
    subject: str
    position: int
    step: str
    status: str
    detail: str
    turns: int
    usage: Usage
    reported_cost_usd: Decimal | None
    at: datetime


def _tokens(usage: Usage) -> tuple[int, int, int, int]:
    return usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens


async def start_run(conn: asyncpg.Connection, run: RunStart, pricing: Pricing) -> None:
    """Record a run's start (it may have been seen already, through a step or its end)."""
    await conn.execute(
        "INSERT INTO runs (run_id, agent, repo, repo_key, number, subject, provider, model, started_at) "
        "VALUES ($1, $2, $3, lower($3), $4, $5, $6, $7, $8) ON CONFLICT (run_id) DO UPDATE SET "
        "agent = excluded.agent, repo = excluded.repo, repo_key = excluded.repo_key, number = excluded.number, "
        "subject = excluded.subject, provider = excluded.provider, model = excluded.model, "
        "started_at = excluded.started_at",
        run.run_id, run.agent, run.repo, run.number, run.subject, run.provider, run.model, run.at)
    await reprice(conn, run.run_id, pricing, steps=True)


async def finish_run(conn: asyncpg.Connection, run: RunEnd, pricing: Pricing) -> None:
    """Record a run's end and totals, replacing the running sum of its steps."""
    await conn.execute(
        f"INSERT INTO runs (run_id, repo, repo_key, number, subject, status, turns, {_USAGE}, reported_cost_usd, "
        "provider_cost_usd, duration_ms, duration_api_ms, pr_number, finished_at, started_at) "
        "VALUES ($1, $2, lower($2), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
        "$16::timestamptz - make_interval(secs => $13::bigint / 1000.0)) ON CONFLICT (run_id) DO UPDATE SET "
        "repo = excluded.repo, repo_key = excluded.repo_key, number = excluded.number, subject = excluded.subject, "
        "status = excluded.status, turns = excluded.turns, input_tokens = excluded.input_tokens, "
        "output_tokens = excluded.output_tokens, cache_read_tokens = excluded.cache_read_tokens, "
        "cache_write_tokens = excluded.cache_write_tokens, reported_cost_usd = excluded.reported_cost_usd, "
        "provider_cost_usd = excluded.provider_cost_usd, duration_ms = excluded.duration_ms, "
        "duration_api_ms = excluded.duration_api_ms, pr_number = excluded.pr_number, "
        "finished_at = excluded.finished_at, started_at = coalesce(runs.started_at, excluded.started_at)",
        run.run_id, run.repo, run.number, run.subject, run.status, run.turns, *_tokens(run.usage),
        run.reported_cost_usd, run.provider_cost_usd, run.duration_ms, run.duration_api_ms, run.pr_number, run.at)
    await reprice(conn, run.run_id, pricing)


async def add_step(conn: asyncpg.Connection, step: Step, pricing: Pricing) -> None:
    """Record one step, priced at its run's model; while the run is running, its tokens are the sum of its steps'."""
    run = await conn.fetchrow(
        "INSERT INTO runs (run_id, subject, started_at) VALUES ($1, $2, $3) ON CONFLICT (run_id) DO UPDATE "
        "SET run_id = excluded.run_id RETURNING provider, model, status", step.run_id, step.subject, step.at)
    await conn.execute(
        f"INSERT INTO run_steps (run_id, position, step, status, detail, turns, {_USAGE}, reported_cost_usd, at, "
        "cost_usd) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
        "ON CONFLICT (run_id, position) DO NOTHING",
        step.run_id, step.position, step.step, step.status, step.detail, step.turns, *_tokens(step.usage),
        step.reported_cost_usd, step.at, _step_cost(run, step, pricing))
    if run["status"] != "running":
        return  # finished: RUN_FINISHED's totals stand
    await conn.execute(
        "UPDATE runs r SET turns = s.turns, input_tokens = s.i, output_tokens = s.o, cache_read_tokens = s.cr, "
        "cache_write_tokens = s.cw FROM (SELECT sum(turns) AS turns, sum(input_tokens) AS i, "
        "sum(output_tokens) AS o, sum(cache_read_tokens) AS cr, sum(cache_write_tokens) AS cw FROM run_steps "
        "WHERE run_id = $1) s WHERE r.run_id = $1", step.run_id)
    await reprice(conn, step.run_id, pricing)


async def reprice(conn: asyncpg.Connection, run_id: str, pricing: Pricing, *, steps: bool = False) -> None:
    """Our cost of a run (and of its steps, with `steps`), from their tokens and the run's model.

    The steps need it only when the run's model may have changed (its RUN_STARTED came after them).
    """
    run = await conn.fetchrow(f"SELECT provider, model, reported_cost_usd, provider_cost_usd, {_USAGE} FROM runs "
                              "WHERE run_id = $1", run_id)
    if run is None:
        return
    if run["model"]:
        ours = pricing.price(run["provider"], run["model"], _usage_of(run)).usd
        source = pricing.source
    else:  # no model named (an agent without one configured): only the agent knows what it ran
        ours, source = run["reported_cost_usd"], REPORTED
    await conn.execute("UPDATE runs SET cost_usd = $2, price_source = $3, cost_gap = $4 WHERE run_id = $1",
                       run_id, ours, source, cost_gap(ours, run["provider_cost_usd"]))
    if not steps:
        return
    rows = await conn.fetch(f"SELECT position, reported_cost_usd, {_USAGE} FROM run_steps WHERE run_id = $1", run_id)
    if rows:
        await conn.executemany("UPDATE run_steps SET cost_usd = $3 WHERE run_id = $1 AND position = $2",
                               [(run_id, step["position"], _step_cost(run, step, pricing)) for step in rows])


def _step_cost(run: asyncpg.Record, step: asyncpg.Record | Step, pricing: Pricing) -> Decimal | None:
    """A step's cost at its run's model, else (no model named) what the agent reported."""
    if isinstance(step, Step):
        usage, reported = step.usage, step.reported_cost_usd
    else:
        usage, reported = _usage_of(step), step["reported_cost_usd"]
    if run is None or not run["model"]:
        return reported
    return pricing.price(run["provider"], run["model"], usage).usd


async def add_token_usage(conn: asyncpg.Connection, event_id: str, agent: str, model: str, category: str,
                          usage: Usage, reported: Decimal | None, at: datetime, pricing: Pricing) -> None:
    """Record one model call outside a run, priced by us."""
    priced = pricing.price("", model, usage)
    await conn.execute(
        f"INSERT INTO token_usage (event_id, agent, model, category, {_USAGE}, cost_usd, reported_cost_usd, "
        "price_source, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
        "ON CONFLICT (event_id) DO NOTHING",
        event_id, agent, model, category, *_tokens(usage), priced.usd, reported, priced.source, at)


def _usage_of(row: asyncpg.Record) -> Usage:
    return Usage(input_tokens=row["input_tokens"], output_tokens=row["output_tokens"],
                 cache_read_tokens=row["cache_read_tokens"], cache_write_tokens=row["cache_write_tokens"])


async def reset(conn: asyncpg.Connection) -> None:
    """Empty everything the events built, for a rebuild from the event store."""
    await conn.execute("TRUNCATE runs, run_steps, token_usage")
