"""The cost tracker's writes (asyncpg): the runs a batch touched, their steps and calls outside a run.

A batch costs a few set-based statements whatever its size: one read of the runs it touches (with their steps,
locked for the batch's transaction), one upsert of those runs, one insert of the new steps, one update of stored
steps repriced by a late RUN_STARTED, one insert of calls outside a run. What the rows become is worked out in
memory by `rig_costs.ledger`, event by event, as the per-event upserts did. Every write is keyed by the run (and
the step's number), so a batch applied twice leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from rig_contracts.payloads import Usage
from rig_costs.ledger import REPORTED, RunEnd, RunRow, RunStart, Step, StepRow

__all__ = ["REPORTED", "RunEnd", "RunStart", "Step", "TokenUsage", "add_token_usage", "load_runs", "reset",
           "store_runs"]

_USAGE = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")

# (column, its array type); `repo_key` is not among them: it is lower(repo), computed by Postgres as before.
_RUN_COLUMNS = (
    ("run_id", "text"), ("agent", "text"), ("repo", "text"), ("number", "int4"), ("subject", "text"),
    ("pr_number", "int4"), ("provider", "text"), ("model", "text"), ("status", "text"),
    ("started_at", "timestamptz"), ("finished_at", "timestamptz"), ("duration_ms", "int8"),
    ("duration_api_ms", "int8"), ("turns", "int4"), *((c, "int8") for c in _USAGE), ("cost_usd", "numeric"),
    ("reported_cost_usd", "numeric"), ("provider_cost_usd", "numeric"), ("price_source", "text"),
    ("cost_gap", "bool"))
_STEP_COLUMNS = (
    ("run_id", "text"), ("position", "int4"), ("step", "text"), ("status", "text"), ("detail", "text"),
    ("turns", "int4"), *((c, "int8") for c in _USAGE), ("cost_usd", "numeric"), ("reported_cost_usd", "numeric"),
    ("at", "timestamptz"))


def _unnest(columns: Sequence[tuple[str, str]]) -> str:
    arrays = ", ".join(f"${n}::{kind}[]" for n, (_, kind) in enumerate(columns, start=1))
    return f"unnest({arrays}) AS u({', '.join(name for name, _ in columns)})"


_RUN_NAMES = [name for name, _ in _RUN_COLUMNS]
_UPSERT_RUNS = (
    f"INSERT INTO runs ({', '.join(_RUN_NAMES)}, repo_key) SELECT u.*, lower(u.repo) FROM {_unnest(_RUN_COLUMNS)} "
    "ON CONFLICT (run_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in [*_RUN_NAMES[1:], "repo_key"]))
_INSERT_STEPS = (f"INSERT INTO run_steps ({', '.join(name for name, _ in _STEP_COLUMNS)}) "
                 f"SELECT * FROM {_unnest(_STEP_COLUMNS)} ON CONFLICT (run_id, position) DO NOTHING")
_REPRICE_STEPS = ("UPDATE run_steps s SET cost_usd = u.cost_usd FROM unnest($1::text[], $2::int4[], $3::numeric[]) "
                  "AS u(run_id, position, cost_usd) WHERE s.run_id = u.run_id AND s.position = u.position")
_LOAD = (f"SELECT r.*, s.position AS s_position, s.turns AS s_turns, s.reported_cost_usd AS s_reported, "
         f"{', '.join(f's.{c} AS s_{c}' for c in _USAGE)} FROM runs r LEFT JOIN run_steps s ON s.run_id = r.run_id "
         "WHERE r.run_id = ANY($1::text[]) FOR UPDATE OF r")


async def load_runs(conn: asyncpg.Connection, run_ids: Collection[str]) -> dict[str, RunRow]:
    """The stored rows of these runs, with their steps.

    They stay locked until the transaction ends, so two batches of one run never fold into the same stale row.
    """
    runs: dict[str, RunRow] = {}
    if not run_ids:
        return runs
    for record in await conn.fetch(_LOAD, list(run_ids)):
        row = runs.get(record["run_id"])
        if row is None:
            row = runs[record["run_id"]] = RunRow(
                **{name: record[name] for name in _RUN_NAMES if name not in _USAGE},
                usage=_usage(record, ""))
        if record["s_position"] is not None:
            row.steps[record["s_position"]] = StepRow(record["s_position"], record["s_turns"], _usage(record, "s_"),
                                                      record["s_reported"], stored=True)
    return runs


def _usage(record: asyncpg.Record, prefix: str) -> Usage:
    return Usage(**{c: record[f"{prefix}{c}"] for c in _USAGE})


async def store_runs(conn: asyncpg.Connection, runs: Collection[RunRow]) -> None:
    """Write the runs as folded (each row whole), their new steps, and their stored steps' new prices."""
    if not runs:
        return
    await conn.execute(_UPSERT_RUNS, *_columns([_run_values(r) for r in runs], len(_RUN_COLUMNS)))
    new = [_step_values(r.run_id, s, s.event) for r in runs for s in r.steps.values() if s.event is not None]
    if new:
        await conn.execute(_INSERT_STEPS, *_columns(new, len(_STEP_COLUMNS)))
    repriced = [(r.run_id, s.position, s.cost_usd) for r in runs if r.restarted for s in r.steps.values()
                if s.stored]
    if repriced:
        await conn.execute(_REPRICE_STEPS, *_columns(repriced, 3))


def _columns(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    """Rows turned into one list per column, the arrays `unnest` takes."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _run_values(r: RunRow) -> tuple[object, ...]:
    u = r.usage
    return (r.run_id, r.agent, r.repo, r.number, r.subject, r.pr_number, r.provider, r.model, r.status, r.started_at,
            r.finished_at, r.duration_ms, r.duration_api_ms, r.turns, u.input_tokens, u.output_tokens,
            u.cache_read_tokens, u.cache_write_tokens, r.cost_usd, r.reported_cost_usd, r.provider_cost_usd,
            r.price_source, r.cost_gap)


def _step_values(run_id: str, s: StepRow, e: Step) -> tuple[object, ...]:
    u = s.usage
    return (run_id, s.position, e.step, e.status, e.detail, s.turns, u.input_tokens, u.output_tokens,
            u.cache_read_tokens, u.cache_write_tokens, s.cost_usd, s.reported_cost_usd, e.at)


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """One model call outside a run (TOKEN_USAGE), priced by us."""

    event_id: str
    agent: str
    model: str
    category: str
    usage: Usage
    cost_usd: Decimal | None
    reported_cost_usd: Decimal | None
    price_source: str
    at: datetime


async def add_token_usage(conn: asyncpg.Connection, calls: Sequence[TokenUsage]) -> None:
    """Record model calls outside a run, in one statement (an event id seen before is skipped)."""
    if not calls:
        return
    rows = [(c.event_id, c.agent, c.model, c.category, c.usage.input_tokens, c.usage.output_tokens,
             c.usage.cache_read_tokens, c.usage.cache_write_tokens, c.cost_usd, c.reported_cost_usd, c.price_source,
             c.at) for c in calls]
    await conn.execute(
        f"INSERT INTO token_usage (event_id, agent, model, category, {', '.join(_USAGE)}, cost_usd, "
        "reported_cost_usd, price_source, at) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], "
        "$5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::numeric[], $10::numeric[], $11::text[], "
        "$12::timestamptz[]) ON CONFLICT (event_id) DO NOTHING", *_columns(rows, 12))


async def reset(conn: asyncpg.Connection) -> None:
    """Empty everything the events built, for a rebuild from the event store (the day totals with the runs)."""
    await conn.execute("TRUNCATE runs, run_steps, token_usage, run_days")
