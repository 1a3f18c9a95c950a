"""`rig costs`: what the agents' runs cost, from the costs service through the edge, as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import click
from rich.table import Table

from rig_cli import bootstrap
from rig_cli.edge import AdminToken, Edge

GROUPS = ("agent", "issue", "repo", "model", "step", "day", "status")


@click.command("costs")
@click.option("--by", "group_by", type=click.Choice(GROUPS), default="agent", show_default=True,
              help="What to sum by.")
@click.option("--today", is_flag=True, help="Only runs started today (UTC).")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Only runs of the last N days.")
@click.option("--issue", default=None, help="Only the runs of one issue, owner/name#N (its total is the last row).")
@click.option("--json", "as_json", is_flag=True, help="Print the service's JSON answer.")
def costs_command(group_by: str, today: bool, days: int | None, issue: str | None, as_json: bool) -> None:
    """Cost and tokens of the agents' runs (API-equivalent dollars; unpriced runs are counted apart, never $0)."""
    settings = bootstrap.load_settings()
    token = AdminToken(bootstrap.signing_key(settings), bootstrap.operator_subject(), settings.admin_token_ttl_s)
    query: dict[str, str] = {"group_by": group_by}
    now = datetime.now(UTC)
    if today:
        query["from"] = now.replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
    elif days:
        query["from"] = (now - timedelta(days=days)).isoformat()
    if issue:
        query["issue"] = issue

    async def work() -> dict[str, Any]:
        async with Edge(settings.edge_url, token, settings.http_timeout_s) as edge:
            return await edge.call("GET", f"/api/costs?{urlencode(query)}")

    answer = bootstrap.run(work())
    if as_json:
        bootstrap.print_json(answer)
        return
    bootstrap.stdout().print(table_of(answer, f"Cost by {group_by}" + (f" of {issue}" if issue else "")))


def table_of(answer: dict[str, Any], title: str) -> Table:
    """The roll-up as a table: one row per group, then the total."""
    table = Table(title=title)
    for column in (answer.get("group_by", "key"), "runs", "input", "output", "cache read", "cache write",
                   "cost (USD)", "unpriced"):
        table.add_column(column, justify="left" if column == answer.get("group_by") else "right")
    for group in [*answer.get("groups", []), {**answer.get("total", {}), "key": "total"}]:
        cost = group.get("cost_usd")
        table.add_row(str(group.get("key") or "—"), str(group.get("runs", 0)), f"{group.get('input_tokens', 0):,}",
                      f"{group.get('output_tokens', 0):,}", f"{group.get('cache_read_tokens', 0):,}",
                      f"{group.get('cache_write_tokens', 0):,}",
                      "unpriced" if cost is None else f"{float(cost):,.4f}", str(group.get("unpriced", 0)))
    return table
