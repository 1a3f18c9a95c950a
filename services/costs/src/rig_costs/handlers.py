"""The cost tracker's projection of `rig:events`, through the inbox (one transaction per batch).

RUN_STARTED, RUN_STEP and RUN_FINISHED build the execution log of each run; TOKEN_USAGE records calls outside a run.
A batch is folded in memory (`rig_costs.ledger`) and written in a few statements (`rig_costs.projection`).
The Prometheus counters add each finished run's tokens and cost by agent, repository and model, as the run stood
right after its RUN_FINISHED (a rebuild adds them again: counters count what this process applied).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from prometheus_client import Counter

from rig_contracts import Event, Names
from rig_contracts.catalogue import RunFinishedEvent, RunStartedEvent, RunStepEvent, TokenUsageEvent
from rig_costs import ledger
from rig_costs import projection as db
from rig_costs.budgets import Budgets, enforce
from rig_costs.domain import Pricing, decimal_or_none, step_position
from rig_costs.ledger import RunRow
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
        run_ids = {e.data.run_id for e in events if isinstance(e, RunStartedEvent | RunStepEvent | RunFinishedEvent)}
        batch = _Batch(await db.load_runs(conn, run_ids), prices)
        for event in events:
            batch.fold(event)
        for row in batch.runs.values():
            ledger.reprice(row, prices)
        await db.store_runs(conn, batch.runs.values())
        await db.add_token_usage(conn, batch.calls)
        for finished in batch.finished:
            finished.count()
        await enforce(conn, events, caps, names)

    return Projection(apply=apply, reset=db.reset)


_FOLDED = frozenset({RunStartedEvent, RunStepEvent, RunFinishedEvent, TokenUsageEvent})
"""The events folded, by exact type: a set lookup is far cheaper than isinstance on pydantic's ABC classes."""


@dataclass(frozen=True, slots=True)
class _Finished:
    """A finished run's labels, cost and tokens right after its RUN_FINISHED, for the counters."""

    labels: tuple[str, str, str]
    cost_usd: float | None
    tokens: tuple[int, int, int, int]

    def count(self) -> None:
        if self.cost_usd is None:
            UNPRICED.labels(*self.labels).inc()
        else:
            COST.labels(*self.labels).inc(self.cost_usd)
        for bucket, tokens in zip(BUCKETS, self.tokens, strict=True):
            TOKENS.labels(*self.labels, bucket).inc(tokens)


class _Batch:
    """The rows a batch's events leave, folded in order: the runs it touched, calls outside a run, runs finished."""

    def __init__(self, runs: dict[str, RunRow], pricing: Pricing) -> None:
        self.runs, self.pricing = runs, pricing
        self.calls: list[db.TokenUsage] = []
        self.finished: list[_Finished] = []

    def fold(self, event: Event) -> None:
        if type(event) not in _FOLDED:
            return  # most events of the stream: skip the class patterns below (isinstance on ABCs is slow)
        runs = self.runs
        match event:
            case RunStartedEvent(data=d):
                runs[d.run_id] = ledger.start(runs.get(d.run_id), ledger.RunStart(
                    d.run_id, d.agent, d.repo, d.number, event.subject, d.provider, d.model, event.at))
            case RunStepEvent(data=d):
                row = runs.get(d.run_id)
                position = step_position(event.key, 0) or ledger.next_position(row)
                runs[d.run_id] = ledger.add_step(row, ledger.Step(
                    d.run_id, event.subject, position, d.step, d.status, d.detail, d.turns, d.usage,
                    decimal_or_none(d.cost_usd), event.at))
            case RunFinishedEvent(data=d):
                row = runs[d.run_id] = ledger.finish(runs.get(d.run_id), ledger.RunEnd(
                    d.run_id, d.repo, d.number, event.subject, d.status, d.turns, d.usage,
                    decimal_or_none(d.cost_usd), decimal_or_none(d.provider_cost_usd), d.duration_ms,
                    d.duration_api_ms, d.pr_number, event.at))
                ledger.reprice(row, self.pricing)
                self.finished.append(_finished(row))
            case TokenUsageEvent(data=d):
                priced = self.pricing.price("", d.model, d.usage)
                self.calls.append(db.TokenUsage(event.id, d.agent, d.model, d.category, d.usage, priced.usd,
                                                decimal_or_none(d.cost_usd), priced.source, event.at))
            case _:
                pass


def _finished(row: RunRow) -> _Finished:
    u = row.usage
    return _Finished((row.agent or "", row.repo or "", row.model or ""),
                     None if row.cost_usd is None else float(row.cost_usd),
                     (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens))
