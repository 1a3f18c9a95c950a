"""The cost tracker's projection of `rig:events`, through the inbox (one transaction per batch).

RUN_STARTED, RUN_STEP and RUN_FINISHED build the execution log of each run; TOKEN_USAGE records calls outside a run.
The Prometheus counters add each finished run's tokens and cost by agent, repository and model (a rebuild adds
them again: counters count what this process applied).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from prometheus_client import Counter

from rig_contracts import Event, Names
from rig_contracts.catalogue import RunFinishedEvent, RunStartedEvent, RunStepEvent, TokenUsageEvent
from rig_costs import projection as db
from rig_costs.budgets import Budgets, enforce
from rig_costs.domain import Pricing, decimal_or_none, step_position
from rig_kit import Projection

COST = Counter("rig_costs_cost_usd_total", "Our API-equivalent cost of finished runs, in dollars (unpriced runs "
               "add nothing: see rig_costs_unpriced_runs_total)", ["agent", "repo", "model"])
TOKENS = Counter("rig_costs_tokens_total", "Tokens of finished runs, by bucket",
                 ["agent", "repo", "model", "bucket"])
UNPRICED = Counter("rig_costs_unpriced_runs_total", "Finished runs whose model the price table does not know",
                   ["agent", "repo", "model"])
BUCKETS = ("input", "output", "cache_read", "cache_write")


def costs_projection(names: Names, pricing: Pricing | None = None, budgets: Budgets | None = None) -> Projection:
    """The Projection for the kit: `apply` a batch of new events (then check the budgets), `reset` for a rebuild."""
    prices = pricing or Pricing()
    caps = budgets or Budgets()

    async def apply(conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        for event in events:
            await _apply_one(conn, event, prices)
        await enforce(conn, events, caps, names)

    return Projection(apply=apply, reset=db.reset)


async def _apply_one(conn: asyncpg.Connection, event: Event, pricing: Pricing) -> None:
    match event:
        case RunStartedEvent(data=d):
            await db.start_run(conn, db.RunStart(d.run_id, d.agent, d.repo, d.number, event.subject, d.provider,
                                                 d.model, event.at), pricing)
        case RunStepEvent(data=d):
            position = step_position(event.key, 0) or await _next_position(conn, d.run_id)
            step = db.Step(d.run_id, event.subject, position, d.step, d.status, d.detail, d.turns, d.usage,
                           decimal_or_none(d.cost_usd), event.at)
            await db.add_step(conn, step, pricing)
        case RunFinishedEvent(data=d):
            await db.finish_run(conn, db.RunEnd(
                d.run_id, d.repo, d.number, event.subject, d.status, d.turns, d.usage, decimal_or_none(d.cost_usd),
                decimal_or_none(d.provider_cost_usd), d.duration_ms, d.duration_api_ms, d.pr_number, event.at),
                pricing)
            await _count(conn, d.run_id)
        case TokenUsageEvent(data=d):
            await db.add_token_usage(conn, event.id, d.agent, d.model, d.category, d.usage,
                                     decimal_or_none(d.cost_usd), event.at, pricing)
        case _:
            pass


async def _next_position(conn: asyncpg.Connection, run_id: str) -> int:
    """A step without a number in its key goes after the run's others."""
    value = await conn.fetchval("SELECT coalesce(max(position), 0) + 1 FROM run_steps WHERE run_id = $1", run_id)
    return int(value)


async def _count(conn: asyncpg.Connection, run_id: str) -> None:
    row = await conn.fetchrow("SELECT agent, repo, model, cost_usd, input_tokens, output_tokens, cache_read_tokens, "
                              "cache_write_tokens FROM runs WHERE run_id = $1", run_id)
    if row is None:
        return
    labels = (row["agent"] or "", row["repo"] or "", row["model"] or "")
    if row["cost_usd"] is None:
        UNPRICED.labels(*labels).inc()
    else:
        COST.labels(*labels).inc(float(row["cost_usd"]))
    for bucket in BUCKETS:
        TOKENS.labels(*labels, bucket).inc(row[f"{bucket}_tokens"])
