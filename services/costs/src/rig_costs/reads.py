"""The cost tracker's reads (asyncpg): pages of runs, one run whole, and roll-ups computed in SQL.

The roll-up by day reads the day totals (`run_days`, kept exact by triggers on `runs`) for the whole UTC days in
range and only the runs of a partial first or last day, so it does not scan every run of the range.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from rig_costs.domain import Cursor, GroupBy, cache_hit_rate, money

_RUN_KEYS: dict[GroupBy, str] = {
    "agent": "coalesce(r.agent, '')",
    "issue": "coalesce(r.subject, '')",
    "repo": "coalesce(r.repo, '')",
    "model": "r.model",
    "day": "r.day::text",
    "status": "r.status",
}
"""The group key of a run for each grouping but `step` (steps are grouped from their own rows)."""

def _sums(t: str) -> str:
    """Sums of tokens and cost over rows aliased `t`; `unpriced` counts rows without our cost."""
    return (f"sum({t}.input_tokens) AS input_tokens, sum({t}.output_tokens) AS output_tokens, "
            f"sum({t}.cache_read_tokens) AS cache_read_tokens, sum({t}.cache_write_tokens) AS cache_write_tokens, "
            f"sum({t}.cost_usd) AS cost_usd, count(*) FILTER (WHERE {t}.cost_usd IS NULL) AS unpriced")


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs a list or a roll-up covers; None means any. `issue` is the work item `owner/name#N`."""

    agent: str | None = None
    repo: str | None = None
    issue: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, first: int = 1) -> tuple[str, list[Any]]:
        """SQL conditions on runs `r` and their values, numbered from `first`."""
        parts: list[str] = []
        values: list[Any] = []
        for column, value in (("r.agent = ", self.agent), ("r.repo_key = lower(", self.repo),
                              ("lower(r.subject) = lower(", self.issue), ("r.status = ", self.status),
                              ("r.started_at >= ", self.since), ("r.started_at < ", self.until)):
            if value is None:
                continue
            values.append(value)
            closing = ")" if column.endswith("(") else ""
            parts.append(f"{column}${first + len(values) - 1}{closing}")
        return (" AND ".join(parts) or "true"), values


@dataclass(frozen=True, slots=True)
class Page:
    """A page of runs, newest first, and the cursor of the next page (None on the last)."""

    runs: list[dict[str, Any]]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class RollUp:
    """Cost and tokens per group, and the total of every group."""

    group_by: GroupBy
    groups: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] = field(default_factory=dict)


def describe_run(row: asyncpg.Record) -> dict[str, Any]:
    """A run as the API shows it; dollars as exact text, None when unpriced."""
    return {"run_id": row["run_id"], "agent": row["agent"], "repo": row["repo"], "number": row["number"],
            "subject": row["subject"], "pr_number": row["pr_number"], "provider": row["provider"],
            "model": row["model"], "status": row["status"], "started_at": _iso(row["started_at"]),
            "finished_at": _iso(row["finished_at"]), "duration_ms": row["duration_ms"],
            "duration_api_ms": row["duration_api_ms"], "turns": row["turns"], **_tokens(row),
            "cost_usd": money(row["cost_usd"]), "priced": row["cost_usd"] is not None,
            "provider_cost_usd": money(row["provider_cost_usd"]),
            "reported_cost_usd": money(row["reported_cost_usd"]), "price_source": row["price_source"],
            "cost_gap": row["cost_gap"], "basis": "API-equivalent"}


async def page_of_runs(conn: asyncpg.Connection, where: RunFilter, limit: int, cursor: Cursor | None) -> Page:
    """Runs matching `where`, newest first, `limit` at most, after `cursor`."""
    condition, values = where.where()
    if cursor is not None:
        values += [cursor.started_at, cursor.run_id]
        condition += f" AND (r.started_at, r.run_id) < (${len(values) - 1}, ${len(values)})"
    rows = await conn.fetch(f"SELECT * FROM runs r WHERE {condition} ORDER BY r.started_at DESC, r.run_id DESC "
                            f"LIMIT {int(limit) + 1}", *values)
    more = len(rows) > limit
    rows = rows[:limit]
    after = Cursor(rows[-1]["started_at"], rows[-1]["run_id"]).encode() if more and rows else None
    return Page([describe_run(row) for row in rows], after)


async def one_run(conn: asyncpg.Connection, run_id: str) -> dict[str, Any] | None:
    """A run with its steps in order, or None."""
    row = await conn.fetchrow("SELECT * FROM runs WHERE run_id = $1", run_id)
    if row is None:
        return None
    steps = await conn.fetch("SELECT * FROM run_steps WHERE run_id = $1 ORDER BY position", run_id)
    return {**describe_run(row), "steps": [
        {"position": s["position"], "step": s["step"], "status": s["status"], "detail": s["detail"],
         "turns": s["turns"], **_tokens(s), "cost_usd": money(s["cost_usd"]),
         "reported_cost_usd": money(s["reported_cost_usd"]), "at": _iso(s["at"])} for s in steps]}


async def roll_up(conn: asyncpg.Connection, group_by: GroupBy, where: RunFilter) -> RollUp:
    """Cost and tokens of the runs matching `where` (of their steps, for `step`), per group, in SQL."""
    if group_by == "day" and (by_day := day_totals_query(where)) is not None:
        rows = await conn.fetch(by_day[0], *by_day[1])
        return RollUp(group_by, [_group(row) for row in rows], _total(rows))
    condition, values = where.where()
    if group_by == "step":
        rows = await conn.fetch(
            f"SELECT t.step AS key, count(DISTINCT t.run_id) AS runs, {_sums('t')} FROM run_steps t "
            f"JOIN runs r ON r.run_id = t.run_id WHERE {condition} GROUP BY t.step ORDER BY t.step", *values)
    else:
        rows = await conn.fetch(
            f"SELECT {_RUN_KEYS[group_by]} AS key, count(*) AS runs, {_sums('r')}, "
            "sum(r.provider_cost_usd) AS provider_cost_usd FROM runs r "
            f"WHERE {condition} GROUP BY 1 ORDER BY 1", *values)
    groups = [_group(row) for row in rows]
    if group_by == "step":  # a run has many steps: its runs are counted once in the total
        total = _group(await conn.fetchrow(f"SELECT count(DISTINCT t.run_id) AS runs, {_sums('t')} FROM run_steps t "
                                           f"JOIN runs r ON r.run_id = t.run_id WHERE {condition}", *values))
    else:  # each run is in exactly one group: the total is their sum, exact (Decimal), without a second scan
        total = _total(rows)
    return RollUp(group_by, groups, total)


_DAY_SUMS = ("sum(u.runs)::bigint AS runs, sum(u.input_tokens) AS input_tokens, sum(u.output_tokens) AS output_tokens, "
             "sum(u.cache_read_tokens) AS cache_read_tokens, sum(u.cache_write_tokens) AS cache_write_tokens, "
             "CASE WHEN sum(u.priced) > 0 THEN sum(u.cost_usd) END AS cost_usd, "
             "(sum(u.runs) - sum(u.priced))::bigint AS unpriced, "
             "CASE WHEN sum(u.provider_known) > 0 THEN sum(u.provider_cost_usd) END AS provider_cost_usd")
_DAY_TOTALS = ("SELECT r.day, r.runs, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, "
               "r.cost_usd, r.priced, r.provider_cost_usd, r.provider_known FROM run_days r")
_RUNS_AS_DAYS = ("SELECT r.day, 1, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, "
                 "coalesce(r.cost_usd, 0), (r.cost_usd IS NOT NULL)::int, coalesce(r.provider_cost_usd, 0), "
                 "(r.provider_cost_usd IS NOT NULL)::int FROM runs r")


def day_totals_query(where: RunFilter) -> tuple[str, list[Any]] | None:
    """The SQL and values of the roll-up by day from the day totals, None where they cannot answer it.

    Whole UTC days come from `run_days` (which has agent, repository and status, not the issue); the runs of a
    partial first or last day of the range are read and added as they are. A range within one day reads runs only.
    """
    since, until = where.since, where.until
    if where.issue is not None or any(t is not None and t.tzinfo is None for t in (since, until)):
        return None
    first = _day_from(since) if since is not None else None
    end = until.astimezone(UTC).date() if until is not None else None  # the first day not whole
    if first is not None and end is not None and first >= end:
        return None
    condition, values = replace(where, since=None, until=None).where()
    parts = [f"{_DAY_TOTALS} WHERE {condition}"]
    for bound, op in ((first, ">="), (end, "<")):
        if bound is not None:
            values.append(bound)
            parts[0] += f" AND r.day {op} ${len(values)}"
    edges = [(op, _midnight(day)) for op, day in (("<", first), (">=", end)) if day is not None]
    if edges:
        condition, more = where.where(len(values) + 1)
        values += [*more, *(at for _, at in edges)]
        numbered = [f"r.started_at {op} ${len(values) - len(edges) + n}" for n, (op, _) in enumerate(edges, start=1)]
        parts.append(f"{_RUNS_AS_DAYS} WHERE {condition} AND ({' OR '.join(numbered)})")
    union = " UNION ALL ".join(parts)
    return (f"SELECT u.day::text AS key, {_DAY_SUMS} FROM ({union}) AS u(day, runs, input_tokens, output_tokens, "
            "cache_read_tokens, cache_write_tokens, cost_usd, priced, provider_cost_usd, provider_known) "
            "GROUP BY u.day ORDER BY u.day"), values


def _day_from(since: datetime) -> date:
    """The first whole UTC day at or after `since`."""
    day = since.astimezone(UTC).date()
    return day if _midnight(day) == since else day + timedelta(days=1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


async def usage_outside_runs(conn: asyncpg.Connection, since: datetime | None) -> dict[str, Any]:
    """Model calls outside a run (TOKEN_USAGE) since `since`, per agent and category, and their total."""
    rows = await conn.fetch(f"SELECT agent, category, count(*) AS calls, {_sums('t')} FROM token_usage t "
                            "WHERE $1::timestamptz IS NULL OR t.at >= $1 GROUP BY 1, 2 ORDER BY 1, 2", since)
    groups = [{"agent": r["agent"], "category": r["category"], "calls": r["calls"],
               **{k: int(r[k] or 0) for k in _TOKEN_COLUMNS}, "cost_usd": money(r["cost_usd"]),
               "unpriced": r["unpriced"], "basis": "API-equivalent"} for r in rows]
    return {"groups": groups, "calls": sum(g["calls"] for g in groups)}


def _total(rows: list[asyncpg.Record]) -> dict[str, Any]:
    """The sum of groups that partition the runs."""
    def add(column: str) -> Decimal | None:
        found = [r[column] for r in rows if r[column] is not None]
        return sum(found, Decimal(0)) if found else None
    return {"runs": sum(r["runs"] for r in rows), **{k: int(sum(r[k] or 0 for r in rows)) for k in _TOKEN_COLUMNS},
            "cost_usd": money(add("cost_usd")), "unpriced": sum(r["unpriced"] for r in rows),
            "basis": "API-equivalent", "provider_cost_usd": money(add("provider_cost_usd")),
            "cache_hit_rate": cache_hit_rate(*(int(sum(r[k] or 0 for r in rows)) for k in (
                "input_tokens", "cache_read_tokens", "cache_write_tokens")))}


def _group(row: asyncpg.Record) -> dict[str, Any]:
    keys = set(row.keys())
    found = {"key": row["key"]} if "key" in keys else {}
    out = {**found, "runs": row["runs"], **{k: int(row[k] or 0) for k in _TOKEN_COLUMNS},
           "cost_usd": money(row["cost_usd"]), "unpriced": row["unpriced"], "basis": "API-equivalent"}
    out["cache_hit_rate"] = cache_hit_rate(out["input_tokens"], out["cache_read_tokens"], out["cache_write_tokens"])
    if "provider_cost_usd" in keys:
        out["provider_cost_usd"] = money(row["provider_cost_usd"])
    return out


_TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def _tokens(row: asyncpg.Record) -> dict[str, int]:
    return {k: int(row[k]) for k in _TOKEN_COLUMNS}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
