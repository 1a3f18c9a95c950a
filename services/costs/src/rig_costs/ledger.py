"""A batch's run events folded in memory into the rows they leave in `runs` and `run_steps` (pure, no I/O).

The projection loads the rows a batch touches, folds the batch's events into them here, in order, and writes the
result back in a few set-based statements (a round trip per event made rebuilds slow). Each fold does what that
event's upserts did in SQL, so the rows come out the same whatever the batch: a step or an end before its run's
start, an event applied twice, a later RUN_STARTED naming another model (which reprices the run's steps).

A run's tokens are RUN_FINISHED's totals once it has finished; until then, the sum of its steps' (a running run
shows its cost so far). Tokens are never added on top of each other, so nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from rig_contracts.payloads import Usage
from rig_costs.domain import Pricing, cost_gap

REPORTED = "reported by the agent"
"""`price_source` of a run whose model was not named: the agent's own figure stands (it priced the model it ran)."""

RUNNING = "running"
"""The status of a run without RUN_FINISHED yet."""


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


@dataclass(slots=True)
class StepRow:
    """One row of `run_steps`: a step as first reported (a duplicate changes nothing); `stored` before the batch."""

    position: int
    turns: int
    usage: Usage
    reported_cost_usd: Decimal | None
    stored: bool
    event: Step | None = None
    cost_usd: Decimal | None = None


@dataclass(slots=True)
class RunRow:
    """One row of `runs` (its defaults are the table's), with its steps.

    `restarted`: a RUN_STARTED came in the batch (the stored steps are repriced); `stale`: its cost is to be
    recomputed (a step of a finished run changes nothing, so a figure priced by an older table stays).
    """

    run_id: str
    agent: str | None = None
    repo: str | None = None
    number: int | None = None
    subject: str | None = None
    pr_number: int | None = None
    provider: str = ""
    model: str = ""
    status: str = RUNNING
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None
    duration_api_ms: int | None = None
    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: Decimal | None = None
    reported_cost_usd: Decimal | None = None
    provider_cost_usd: Decimal | None = None
    price_source: str | None = None
    cost_gap: bool = False
    steps: dict[int, StepRow] = field(default_factory=dict)
    restarted: bool = False
    stale: bool = False


def start(row: RunRow | None, run: RunStart) -> RunRow:
    """A run's start (it may have been seen already, through a step or its end): who ran what, and when."""
    row = row or RunRow(run.run_id)
    row.agent, row.repo, row.number, row.subject = run.agent, run.repo, run.number, run.subject
    row.provider, row.model, row.started_at = run.provider, run.model, run.at
    row.restarted = row.stale = True
    return row


def finish(row: RunRow | None, run: RunEnd) -> RunRow:
    """A run's end and totals, replacing the running sum of its steps (a start not seen yet: end less duration)."""
    if row is None or row.started_at is None:
        row = row or RunRow(run.run_id)
        row.started_at = run.at - timedelta(milliseconds=run.duration_ms)
    row.repo, row.number, row.subject, row.status = run.repo, run.number, run.subject, run.status
    row.turns, row.usage, row.reported_cost_usd = run.turns, run.usage, run.reported_cost_usd
    row.provider_cost_usd, row.duration_ms, row.duration_api_ms = run.provider_cost_usd, run.duration_ms, \
        run.duration_api_ms
    row.pr_number, row.finished_at = run.pr_number, run.at
    row.stale = True
    return row


def add_step(row: RunRow | None, step: Step) -> RunRow:
    """One step (the first report of its position stands); while the run is running, its tokens are its steps'."""
    row = row or RunRow(step.run_id, subject=step.subject, started_at=step.at)
    if step.position not in row.steps:
        row.steps[step.position] = StepRow(step.position, step.turns, step.usage, step.reported_cost_usd,
                                           stored=False, event=step)
    if row.status == RUNNING:
        steps = row.steps.values()
        row.turns = sum(s.turns for s in steps)
        row.usage = Usage.model_construct(  # sums of validated counts: no need to validate again
            input_tokens=sum(s.usage.input_tokens for s in steps),
            output_tokens=sum(s.usage.output_tokens for s in steps),
            cache_read_tokens=sum(s.usage.cache_read_tokens for s in steps),
            cache_write_tokens=sum(s.usage.cache_write_tokens for s in steps))
        row.stale = True
    return row


def next_position(row: RunRow | None) -> int:
    """Where a step without a number in its key goes: after the run's others."""
    return max(row.steps, default=0) + 1 if row is not None else 1


def reprice(row: RunRow, pricing: Pricing) -> None:
    """Our cost of a run from its tokens and model (no model named: the agent's figure), and of its steps.

    New steps are priced, and stored ones too when a RUN_STARTED (perhaps naming another model) came in the batch.
    """
    if row.stale:
        _price_run(row, pricing)
    for step in row.steps.values():
        if not step.stored or row.restarted:
            step.cost_usd = step_cost(row, step.usage, step.reported_cost_usd, pricing)


def _price_run(row: RunRow, pricing: Pricing) -> None:
    if row.model:
        row.cost_usd, row.price_source = pricing.price(row.provider, row.model, row.usage).usd, pricing.source
    else:  # no model named (an agent without one configured): only the agent knows what it ran
        row.cost_usd, row.price_source = row.reported_cost_usd, REPORTED
    row.cost_gap = cost_gap(row.cost_usd, row.provider_cost_usd)
    row.stale = False


def step_cost(row: RunRow, usage: Usage, reported: Decimal | None, pricing: Pricing) -> Decimal | None:
    """A step's cost at its run's model, else (no model named) what the agent reported."""
    if not row.model:
        return reported
    return pricing.price(row.provider, row.model, usage).usd
