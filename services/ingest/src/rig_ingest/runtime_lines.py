"""The public agent runtime's output lines as `runlogs` and `logs:{agent}` carry them (docs/design.md section 9).

Its execution-log lines and its agent-log lines come in two shapes (milliseconds or ISO times, camelCase fields);
both leave here as one shape (rig_contracts.entries.LOG_LINE_FIELDS). Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from rig_ingest.runtime_mapping import AgentLogs, Run, RunLogLine


def iso_time(ts: str) -> str:
    """A line's time as ISO 8601: the runtime sends milliseconds since the epoch in one call, ISO in the other."""
    if ts.isdigit():
        return datetime.fromtimestamp(int(ts) / 1000, UTC).isoformat()
    return ts


def log_entry(agent: str, ts: str, level: str, message: str, repo: str | None, number: int | None,
              run_id: str = "") -> dict[str, str]:
    """One output line as `runlogs` and `logs:{agent}` carry it (rig_contracts.entries.LOG_LINE_FIELDS)."""
    entry = {"agentId": agent, "ts": iso_time(ts), "level": level, "message": message, "repo": repo or "",
             "issueNumber": str(number) if number else ""}
    return {**entry, "runId": run_id} if run_id else entry


def linked_issue(entries: Sequence[dict[str, str]], repo: str, number: int) -> int | None:
    """The work item a run about `repo#number` belongs to, from the agent's assignment entries (newest first).

    The runtime's review entries carry the PR number as `issueNumber` and the work item as `linkedIssue`; a run it
    opens names the PR, so the entry tells which issue the run is part of.
    """
    for entry in entries:
        linked = entry.get("linkedIssue", "")
        if entry.get("repo") == repo and entry.get("issueNumber") == str(number) and linked.isdigit():
            return int(linked) or None
    return None


def run_log_entries(run: Run, lines: Sequence[RunLogLine]) -> list[dict[str, str]]:
    """The lines of `POST /api/execution-logs/{id}/logs`, about the run's work item."""
    return [log_entry(run.agent, line.timestamp, line.level, line.message, run.repo, run.issue_number, run.run_id)
            for line in lines]


def agent_log_entries(body: AgentLogs) -> list[dict[str, str]]:
    """The lines of `POST /api/agent-logs`."""
    return [log_entry(body.agent_id, e.ts, e.level, e.message, e.repo, e.issue_number) for e in body.entries]


def channel_message(entry: dict[str, str]) -> str:
    """What one line publishes on `logs:{agent}`: the same fields, as JSON."""
    return json.dumps(entry, ensure_ascii=False)
