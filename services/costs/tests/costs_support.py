"""A recorded event sequence of runs, and what its roll-ups must be, computed here without the service's code.

Two issues in two repositories, three agents: a failed dev run and its retry (a resumed Claude session, billed for
its own part only), two reviews, a Codex run that read most of its input from the cache, a run of a model no price
table knows (unpriced), one run still going, and a call outside any run. Prices are typed in from the providers'
list prices (dollars per million tokens) rather than read from genai-prices, so a pricing slip shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis

from rig_contracts import Envelope, Names
from rig_contracts.catalogue import RunFinishedEvent, RunStartedEvent, RunStepEvent, TokenUsageEvent
from rig_contracts.entries import EVENT_FIELD

PER_MILLION: dict[str, dict[str, Decimal]] = {
    "claude-sonnet-4-5": {"input": Decimal(3), "output": Decimal(15), "cache_read": Decimal("0.30"),
                          "cache_write": Decimal("3.75")},
    "gpt-5-codex": {"input": Decimal("1.25"), "output": Decimal(10), "cache_read": Decimal("0.125"),
                    "cache_write": Decimal("1.25")},
}
BUCKETS = ("input", "output", "cache_read", "cache_write")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Tokens:
    """Four buckets of one step."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def data(self) -> dict[str, int]:
        return {f"{b}_tokens": getattr(self, b) for b in BUCKETS}


@dataclass(frozen=True)
class Run:
    """One recorded run: its steps' tokens add up to its total (only the provider steps used a model)."""

    run_id: str
    agent: str
    repo: str
    number: int
    provider: str
    model: str
    status: str | None  # None: still running
    start: datetime
    steps: list[tuple[str, Tokens]] = field(default_factory=list)
    provider_cost: Decimal | None = None
    pr_number: int | None = None
    item: str | None = None  # the work item, when `number` is not it (a review run's number is its PR's)

    @property
    def subject(self) -> str:
        return self.item or f"{self.repo}#{self.number}"

    def total(self) -> Tokens:
        return Tokens(*(sum(getattr(t, b) for _, t in self.steps) for b in BUCKETS))


def cost(model: str, tokens: Tokens) -> Decimal | None:
    """List price of `tokens` at `model`, None when unknown."""
    rates = PER_MILLION.get(model)
    if rates is None:
        return None
    return sum((getattr(tokens, b) * rates[b] for b in BUCKETS), Decimal(0)) / 1_000_000


def _sonnet_cost(tokens: Tokens) -> Decimal:
    found = cost("claude-sonnet-4-5", tokens)
    assert found is not None
    return found


R1 = Tokens(input=1200, output=3400, cache_read=50_000, cache_write=8000)
R3 = Tokens(input=5000, output=700, cache_write=4000)
RUNS = [
    Run("run-1", "dev-e-python", "acme/app", 1, "claude", "claude-sonnet-4-5", "failed", T0,
        [("clone", Tokens()), ("provider", R1), ("test", Tokens())], provider_cost=_sonnet_cost(R1)),
    # the retry resumes the session: RUN_FINISHED carries this run's part only (as rig_providers bills it)
    Run("run-2", "dev-e-python", "acme/app", 1, "claude", "claude-sonnet-4-5", "succeeded", T0 + timedelta(hours=1),
        [("clone", Tokens()), ("provider", Tokens(300, 900, 61_000, 1500)), ("provider", Tokens(40, 80, 9000)),
         ("push", Tokens())], pr_number=11),
    Run("run-3", "review-e", "acme/app", 11, "claude", "claude-sonnet-4-5", "succeeded", T0 + timedelta(hours=2),
        [("diff", Tokens()), ("provider", R3), ("review", Tokens())],
        provider_cost=_sonnet_cost(R3) * Decimal("1.05"), pr_number=11, item="acme/app#1"),  # 5% off ours: flagged
    Run("run-4", "dev-e-node", "acme/lib", 7, "codex", "gpt-5-codex", "succeeded", T0 + timedelta(days=1),
        [("clone", Tokens()), ("provider", Tokens(20_000, 6000, 180_000)), ("push", Tokens())], pr_number=8),
    Run("run-5", "dev-e-node", "acme/lib", 7, "claude", "mystery-model-9", "failed", T0 + timedelta(days=1, hours=2),
        [("provider", Tokens(100, 100))]),
    Run("run-6", "review-e", "acme/lib", 7, "claude", "claude-sonnet-4-5", "succeeded", T0 + timedelta(days=1, hours=3),
        [("provider", Tokens(2500, 400, 1000, 2000))]),
    Run("run-7", "dev-e-node", "acme/lib", 7, "codex", "gpt-5-codex", None, T0 + timedelta(days=1, hours=5),
        [("clone", Tokens()), ("provider", Tokens(700, 50, 3000))]),
]
OUTSIDE = TokenUsageEvent.of(source="agent:review-e", subject="agent:review-e", key="usage:review-e:1",
                             at=T0 + timedelta(minutes=5),
                             data={"agent": "review-e", "model": "claude-sonnet-4-5", "category": "chat",
                                   "usage": Tokens(400, 40).data(), "cost_usd": 0.0018})


def events_of(run: Run) -> list[Envelope]:
    """RUN_STARTED, a RUN_STEP per step, RUN_FINISHED (unless still running), as the agent writes them."""
    subject, source = run.subject, f"agent:{run.agent}"
    out: list[Envelope] = [RunStartedEvent.of(
        source=source, subject=subject, key=f"run:{run.run_id}:started", at=run.start,
        data={"repo": run.repo, "number": run.number, "run_id": run.run_id, "agent": run.agent,
              "provider": run.provider, "model": run.model})]
    for n, (name, tokens) in enumerate(run.steps, start=1):
        priced = cost(run.model, tokens)
        out.append(RunStepEvent.of(
            source=source, subject=subject, key=f"run:{run.run_id}:step:{n}", at=run.start + timedelta(minutes=n),
            data={"run_id": run.run_id, "step": name, "status": "succeeded", "turns": 1 if tokens.input else 0,
                  "usage": tokens.data(), "cost_usd": float(priced) if priced is not None else None}))
    if run.status is not None:
        priced = cost(run.model, run.total())
        out.append(RunFinishedEvent.of(
            source=source, subject=subject, key=f"run:{run.run_id}:finished", at=run.start + timedelta(minutes=30),
            data={"repo": run.repo, "number": run.number, "run_id": run.run_id, "status": run.status,
                  "turns": sum(1 for _, t in run.steps if t.input), "usage": run.total().data(),
                  "cost_usd": float(priced) if priced is not None else None,
                  "provider_cost_usd": float(run.provider_cost) if run.provider_cost is not None else None,
                  "duration_ms": 30 * 60_000, "pr_number": run.pr_number}))
    return out


def recorded() -> list[Envelope]:
    """The whole sequence, with run-1's RUN_FINISHED delivered twice (at-least-once) and sent again under a new id."""
    events = [e for run in RUNS for e in events_of(run)] + [OUTSIDE]
    finished = next(e for e in events if e.key == "run:run-1:finished")
    again = RunFinishedEvent.of(source=finished.source, subject=finished.subject, key=finished.key, at=finished.at,
                                data=finished.data)
    return [*events, finished, again]


async def publish(redis: aioredis.Redis, names: Names, events: list[Envelope]) -> None:
    """Onto `rig:events`, as the relays write them."""
    for event in events:
        await redis.xadd(names.events, {EVENT_FIELD: event.to_json()})


def group_key(run: Run, group_by: str) -> str:
    return {"agent": run.agent, "issue": run.subject, "repo": run.repo, "model": run.model,
            "day": run.start.strftime("%Y-%m-%d"), "status": run.status or "running"}[group_by]


def expected(group_by: str) -> dict[str, dict[str, Any]]:
    """Per group: runs, the four token sums, the priced cost and how many runs (or steps) were unpriced."""
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"runs": set(), **{f"{b}_tokens": 0 for b in BUCKETS}, "cost": Decimal(0), "unpriced": 0})
    for run in RUNS:
        rows = ([(name, tokens) for name, tokens in run.steps] if group_by == "step"
                else [(group_key(run, group_by), run.total())])
        for key, tokens in rows:
            group = groups[key]
            group["runs"].add(run.run_id)
            for b in BUCKETS:
                group[f"{b}_tokens"] += getattr(tokens, b)
            priced = cost(run.model, tokens)
            if priced is None:
                group["unpriced"] += 1
            else:
                group["cost"] += priced
    return {k: {**v, "runs": len(v["runs"])} for k, v in groups.items()}
