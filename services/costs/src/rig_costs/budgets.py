"""Budgets: an issue's spend across all its runs, a repository's per UTC day (docs/design.md section 2).

After each batch, the items and repository-days the batch touched are summed (our cost, priced runs only); one
whose sum reached the warning share of its cap gets BUDGET_WARNING once, one that reached its cap BUDGET_EXCEEDED
once, through the outbox in the batch's transaction. The router stops assigning on BUDGET_EXCEEDED (an issue's
item, or the repository for the day). Runs are admitted before they start by `reservations`, which also stops a
run at its allowance through the agent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
from prometheus_client import Counter

from rig_contracts import Event, Names
from rig_contracts.catalogue import (
    BudgetExceededEvent,
    BudgetWarningEvent,
    IssueAssignedEvent,
    RunFinishedEvent,
    RunStartedEvent,
    RunStepEvent,
)
from rig_db import outbox

log = logging.getLogger(__name__)

SOURCE = "costs"
"""The `source` of every event the cost tracker writes."""

EXCEEDED = Counter("rig_costs_budgets_exceeded_total", "BUDGET_EXCEEDED events written, by scope", ["scope"])
WARNED = Counter("rig_costs_budgets_warned_total", "BUDGET_WARNING events written, by scope", ["scope"])


@dataclass(frozen=True, slots=True)
class Budgets:
    """The caps in dollars; None: no cap."""

    issue_usd: Decimal | None = None
    repo_day_usd: Decimal | None = None
    warn_fraction: Decimal = Decimal("0.8")
    """Share of a cap at which BUDGET_WARNING is written."""



async def enforce(conn: asyncpg.Connection, events: Sequence[Event], budgets: Budgets, names: Names) -> None:
    """Note the files' caps the batch's assignments carry, then announce what the batch's runs (nearly) spent.

    Once per item or repository-day. A file's cap only tightens the settings' one (LEAST ignores NULL).
    """
    caps = [(e.subject, e.data.repo.lower(), e.data.issue_budget_usd, e.data.day_budget_usd) for e in events
            if isinstance(e, IssueAssignedEvent) and (e.data.issue_budget_usd or e.data.day_budget_usd)]
    if caps:
        await conn.executemany(
            "INSERT INTO item_budgets (subject, repo_key, issue_usd, day_usd) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (subject) DO UPDATE SET issue_usd = excluded.issue_usd, day_usd = excluded.day_usd", caps)
    runs = sorted({e.data.run_id for e in events if isinstance(e, RunStartedEvent | RunStepEvent | RunFinishedEvent)})
    if not runs:
        return
    rows = await conn.fetch(
        "SELECT r.subject AS target, min(r.repo) AS repo, sum(r.cost_usd) AS spent, "
        "least($2::numeric, min(b.issue_usd)) AS cap FROM runs r LEFT JOIN item_budgets b ON b.subject = r.subject "
        "WHERE r.subject IN (SELECT subject FROM runs WHERE run_id = ANY($1::text[]) AND subject IS NOT NULL) "
        "GROUP BY r.subject HAVING sum(r.cost_usd) >= least($2::numeric, min(b.issue_usd)) * $3",
        runs, budgets.issue_usd, budgets.warn_fraction)
    for row in rows:
        await _announce(conn, names, "issue", row)
    rows = await conn.fetch(
        "SELECT min(repo) || '@' || day AS target, min(repo) AS repo, sum(cost_usd) AS spent, min(cap) AS cap "
        "FROM (SELECT repo, repo_key, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, cost_usd, "
        "least($2::numeric, (SELECT min(b.day_usd) FROM item_budgets b WHERE b.repo_key = runs.repo_key)) AS cap "
        "FROM runs WHERE repo_key IS NOT NULL) r WHERE (repo_key, day) IN (SELECT repo_key, "
        "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM runs WHERE run_id = ANY($1::text[])) "
        "GROUP BY repo_key, day HAVING sum(cost_usd) >= min(cap) * $3", runs, budgets.repo_day_usd,
        budgets.warn_fraction)
    for row in rows:
        await _announce(conn, names, "repo_day", row)


async def _announce(conn: asyncpg.Connection, names: Names, scope: str, row: asyncpg.Record) -> None:
    """BUDGET_WARNING once the warning share is spent, BUDGET_EXCEEDED once the cap is; each once per budget."""
    limit: Decimal = row["cap"]
    await _once(conn, names, f"{scope}:warn", BudgetWarningEvent, row, limit)
    if row["spent"] >= limit:
        await _once(conn, names, scope, BudgetExceededEvent, row, limit)


async def _once(conn: asyncpg.Connection, names: Names, alert: str,
                kind: type[BudgetExceededEvent] | type[BudgetWarningEvent], row: asyncpg.Record,
                limit: Decimal) -> None:
    first = await conn.fetchval(
        "INSERT INTO budget_alerts (scope, target, limit_usd, spent_usd) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING RETURNING true", alert, row["target"], limit, row["spent"])
    if not first or row["repo"] is None:
        return
    scope = alert.removesuffix(":warn")
    subject = row["target"] if scope == "issue" else row["repo"]
    number = _number(row["target"]) if scope == "issue" else None
    event = kind.of(source=SOURCE, subject=subject, key=f"budget:{alert}:{row['target']}",
                    data={"scope": scope, "repo": row["repo"], "number": number, "limit_usd": float(limit),
                          "spent_usd": float(row["spent"])})
    await outbox.add(conn, [outbox.OutboxEntry(event, names.events)])
    (WARNED if kind is BudgetWarningEvent else EXCEEDED).labels(scope).inc()
    log.info("%s budget of %s: $%s of $%s spent (%s)", scope, row["target"], row["spent"], limit, event.type)


def _number(subject: str) -> int | None:
    tail = subject.rsplit("#", 1)[-1]
    return int(tail) if tail.isdigit() else None
