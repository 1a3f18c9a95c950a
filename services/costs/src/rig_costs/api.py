"""HTTP, read only (a token with `read` scope): runs, one run whole, cost roll-ups.

`GET /api/runs` lists runs newest first (filters, cursor pages); `GET /api/runs/{id}` gives a run with its steps and
output lines;
`GET /api/costs?group_by=…` sums cost and tokens per agent, issue, repository, model, step or day, in SQL;
`GET /api/usage?days=N` sums the model calls outside a run.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from rig_costs import reads
from rig_costs.domain import GROUPS, Cursor, GroupBy, to_csv
from rig_costs.lines import lines_of
from rig_costs.settings import CostsSettings
from rig_identity import Principal
from rig_kit import ServiceKit

RUN_COLUMNS = ("run_id", "agent", "subject", "repo", "number", "pr_number", "provider", "model", "status",
               "started_at", "finished_at", "duration_ms", "turns", "input_tokens", "output_tokens",
               "cache_read_tokens", "cache_write_tokens", "cost_usd", "provider_cost_usd", "price_source", "cost_gap")
GROUP_COLUMNS = ("key", "runs", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                 "cost_usd", "unpriced", "provider_cost_usd")
Format = Literal["json", "csv"]

_ISSUE = re.compile(r"^(?P<repo>[^#\s]+/[^#\s]+)#(?P<number>[0-9]+)$")


def run_filter(agent: str | None, repo: str | None, issue: str | None, status: str | None,
               since: datetime | None, until: datetime | None) -> reads.RunFilter:
    """The filter of a request; `issue` is `owner/name#N`, or `N` with `repo` (a review run counts for its issue)."""
    if issue is not None and _ISSUE.match(issue) is None:
        if not (issue.isdigit() and repo is not None):
            raise HTTPException(422, f"issue {issue!r} is not `owner/name#N` (or `N` together with `repo`)")
        issue = f"{repo}#{issue}"
    return reads.RunFilter(agent, repo, issue, status, _utc(since), _utc(until))


def _utc(value: datetime | None) -> datetime | None:
    """A time without a zone is UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def api_router(kit: ServiceKit, settings: CostsSettings) -> APIRouter:
    """The cost tracker's public routes; every one reads, and needs `read` scope."""
    router = APIRouter()
    Reader = Annotated[Principal, Depends(kit.authenticator.require("read"))]  # noqa: N806
    Since = Annotated[datetime | None, Query(alias="from", description="Runs started at or after (ISO 8601).")]  # noqa: N806
    Until = Annotated[datetime | None, Query(alias="to", description="Runs started before (ISO 8601).")]  # noqa: N806

    @router.get("/api/runs")
    async def list_runs(_who: Reader, since: Since = None, until: Until = None, agent: str | None = None,
                        repo: str | None = None, issue: str | None = None, status: str | None = None,
                        cursor: str | None = None, limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
                        format: Format = "json") -> Any:
        """Runs, newest first; pass `next_cursor` back as `cursor` for the next page (CSV: `X-Next-Cursor`)."""
        where = run_filter(agent, repo, issue, status, since, until)
        try:
            after = Cursor.decode(cursor) if cursor else None
        except ValueError as error:
            raise HTTPException(422, str(error)) from error
        async with kit.pool.acquire() as conn:
            page = await reads.page_of_runs(conn, where, limit or settings.costs_page_size, after)
        if format == "csv":
            headers = {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}
            return Response(to_csv(page.runs, RUN_COLUMNS), media_type="text/csv", headers=headers)
        return {"runs": page.runs, "next_cursor": page.next_cursor}

    @router.get("/api/runs/{run_id}")
    async def show_run(run_id: str, _who: Reader) -> dict[str, Any]:
        """One run: its summary, its steps and its output lines, in order."""
        async with kit.pool.acquire() as conn:
            found = await reads.one_run(conn, run_id)
            shown = await lines_of(conn, run_id, settings.costs_run_lines) if found else []
        if found is None:
            raise HTTPException(404, f"no run {run_id!r}: list runs with GET /api/runs")
        return {**found, "lines": shown}

    @router.get("/api/runs/{run_id}/lines")
    async def run_lines(run_id: str, _who: Reader, after: Annotated[int, Query(ge=0)] = 0,
                        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> dict[str, Any]:
        """A run's output lines in order, after the first `after`."""
        async with kit.pool.acquire() as conn:
            shown = await lines_of(conn, run_id, limit, after)
        return {"lines": shown, "next_after": after + len(shown)}

    @router.get("/api/costs")
    async def costs(_who: Reader, group_by: Annotated[GroupBy, Query(description=", ".join(GROUPS))] = "issue",
                    since: Since = None, until: Until = None, agent: str | None = None, repo: str | None = None,
                    issue: str | None = None, status: str | None = None,
                    format: Format = "json") -> Any:
        """Cost and tokens per group; each issue's total covers all its runs (dev, review, retries, fixes)."""
        where = run_filter(agent, repo, issue, status, since, until)
        async with kit.pool.acquire() as conn:
            found = await reads.roll_up(conn, group_by, where)
        if format == "csv":
            return Response(to_csv(found.groups, GROUP_COLUMNS), media_type="text/csv")
        return {"group_by": found.group_by, "groups": found.groups, "total": found.total}

    @router.get("/api/usage")
    async def usage(_who: Reader, days: Annotated[int | None, Query(ge=1, le=3660)] = None) -> dict[str, Any]:
        """Model calls outside a run (TOKEN_USAGE) by agent and category, over the last `days` (all without)."""
        since = datetime.now(UTC) - timedelta(days=days) if days else None
        async with kit.pool.acquire() as conn:
            return await reads.usage_outside_runs(conn, since)

    return router
