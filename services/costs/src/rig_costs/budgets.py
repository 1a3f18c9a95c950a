"""Budgets from settings: an issue's spend across all its runs, a repository's per UTC day (docs/design.md section 2).

After each batch, the items and repository-days the batch touched are summed (our cost, priced runs only); one
whose sum reached its cap gets BUDGET_EXCEEDED once, through the outbox in the batch's transaction. The router
already stops assigning on it (an issue's item, or the repository for the day). Not built yet: reservations
before a run starts, the 80% warning, `budget` of `.rig-agent.yaml`, stopping a running agent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
from prometheus_client import Counter

from rig_contracts import Event, Names
from rig_contracts.catalogue import BudgetExceededEvent, RunFinishedEvent, RunStartedEvent, RunStepEvent
from rig_db import outbox

log = logging.getLogger(__name__)

SOURCE = "costs"
"""The `source` of every event the cost tracker writes."""

EXCEEDED = Counter("rig_costs_budgets_exceeded_total", "BUDGET_EXCEEDED events written, by scope", ["scope"])


@dataclass(frozen=True, slots=True)
class Budgets:
    """The caps in dollars; None: no cap."""

    issue_usd: Decimal | None = None
    repo_day_usd: Decimal | None = None

    @property
    def any(self) -> bool:
        """Whether any cap is set."""
        return self.issue_usd is not None or self.repo_day_usd is not None


async def enforce(conn: asyncpg.Connection, events: Sequence[Event], budgets: Budgets, names: Names) -> None:
    """Write BUDGET_EXCEEDED for each budget the batch's runs spent, once per item or repository-day."""
    runs = sorted({e.data.run_id for e in events if isinstance(e, RunStartedEvent | RunStepEvent | RunFinishedEvent)})
    if not runs or not budgets.any:
        return
    if budgets.issue_usd is not None:
        rows = await conn.fetch(
            "SELECT subject AS target, min(repo) AS repo, sum(cost_usd) AS spent FROM runs "
            "WHERE subject IN (SELECT subject FROM runs WHERE run_id = ANY($1::text[]) AND subject IS NOT NULL) "
            "GROUP BY subject HAVING sum(cost_usd) >= $2",
            runs, budgets.issue_usd)
        for row in rows:
            await _exceeded(conn, names, "issue", row, budgets.issue_usd)
    if budgets.repo_day_usd is not None:
        rows = await conn.fetch(
            "SELECT min(repo) || '@' || day AS target, min(repo) AS repo, sum(cost_usd) AS spent "
            "FROM (SELECT repo, repo_key, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, cost_usd "
            "FROM runs WHERE repo_key IS NOT NULL) r WHERE (repo_key, day) IN (SELECT repo_key, "
            "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM runs WHERE run_id = ANY($1::text[])) "
            "GROUP BY repo_key, day HAVING sum(cost_usd) >= $2", runs, budgets.repo_day_usd)
        for row in rows:
            await _exceeded(conn, names, "repo_day", row, budgets.repo_day_usd)


async def _exceeded(conn: asyncpg.Connection, names: Names, scope: str, row: asyncpg.Record, limit: Decimal) -> None:
    first = await conn.fetchval(
        "INSERT INTO budget_alerts (scope, target, limit_usd, spent_usd) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING RETURNING true", scope, row["target"], limit, row["spent"])
    if not first or row["repo"] is None:
        return
    subject = row["target"] if scope == "issue" else row["repo"]
    number = _number(row["target"]) if scope == "issue" else None
    event = BudgetExceededEvent.of(
        source=SOURCE, subject=subject, key=f"budget:{scope}:{row['target']}",
        data={"scope": scope, "repo": row["repo"], "number": number, "limit_usd": float(limit),
              "spent_usd": float(row["spent"])})
    await outbox.add(conn, [outbox.OutboxEntry(event, names.events)])
    EXCEEDED.labels(scope).inc()
    log.info("%s budget of %s spent: $%s of $%s", scope, row["target"], row["spent"], limit)


def _number(subject: str) -> int | None:
    tail = subject.rsplit("#", 1)[-1]
    return int(tail) if tail.isdigit() else None
