"""The roll-up by day reads the day totals for whole days and the runs of partial ones: whatever the range and the
filters, and after a rebuild, it gives what summing the runs in the test gives."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from costs_support import BUCKETS, RUNS, cost, events_of, publish, recorded

from rig_contracts import Names
from rig_testing.waiting import eventually


def expected(since: datetime | None, until: datetime | None, **only: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for run in RUNS:
        if (since and run.start < since) or (until and run.start >= until):
            continue
        if any({"agent": run.agent, "status": run.status or "running", "repo": run.repo}[k] != v
               for k, v in only.items()):
            continue
        group = groups.setdefault(run.start.strftime("%Y-%m-%d"), {
            "runs": 0, **{f"{b}_tokens": 0 for b in BUCKETS}, "cost_usd": None, "unpriced": 0})
        group["runs"] += 1
        for b in BUCKETS:
            group[f"{b}_tokens"] += getattr(run.total(), b)
        priced = cost(run.model, run.total())
        if priced is None:
            group["unpriced"] += 1
        else:
            group["cost_usd"] = (group["cost_usd"] or Decimal(0)) + priced
    return groups


RANGES = [
    (None, None),
    (datetime(2026, 11, 1, 12, tzinfo=UTC), datetime(2026, 11, 3, 4, tzinfo=UTC)),  # a whole day between partial ones
    (datetime(2026, 11, 2, 9, 30, tzinfo=UTC), None),  # a partial first day, then whole days
    (datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, 13, tzinfo=UTC)),  # from midnight
    (None, datetime(2026, 11, 3, 2, 30, tzinfo=UTC)),
    (datetime(2026, 11, 3, 1, tzinfo=UTC), datetime(2026, 11, 3, 4, tzinfo=UTC)),  # within one day
]


async def by_day(costs, since: datetime | None, until: datetime | None, **only: str) -> dict[str, dict[str, Any]]:
    params = {"group_by": "day", **only, **({"from": since.isoformat()} if since else {}),
              **({"to": until.isoformat()} if until else {})}
    answer = (await costs.get("/api/costs", params=params)).json()
    return {g["key"]: {"runs": g["runs"], **{f"{b}_tokens": g[f"{b}_tokens"] for b in BUCKETS},
                       "cost_usd": None if g["cost_usd"] is None else Decimal(g["cost_usd"]),
                       "unpriced": g["unpriced"]} for g in answer["groups"]}


@pytest.mark.parametrize("only", [{}, {"agent": "dev-e-node"}, {"status": "succeeded"}, {"repo": "ACME/lib"}])
async def test_days_equal_the_runs_summed_for_any_range_and_filter(costs, redis, key_prefix, only):
    names = Names(key_prefix)
    # out of order: each run's end and steps before its start, and run-1's end again
    await publish(redis, names, [e for run in RUNS for e in reversed(events_of(run))])
    await publish(redis, names, recorded()[-2:])

    async def all_in() -> bool:
        return await by_day(costs, None, None) == expected(None, None)
    await eventually(all_in, what="every run projected")
    repo = {"repo": only["repo"].lower()} if "repo" in only else {}
    for since, until in RANGES:
        assert await by_day(costs, since, until, **only) == expected(since, until, **{**only, **repo}), (since, until)
