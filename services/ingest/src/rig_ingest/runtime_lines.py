"""The public agent runtime's output lines as `runlogs` and `logs:{agent}` carry them (docs/design.md section 9).

Its execution-log lines and its agent-log lines come in two shapes (milliseconds or ISO times, camelCase fields);
both leave here as one shape (rig_contracts.entries.LOG_LINE_FIELDS). An agent's lines about a work item also show
that it works on it: at most one AGENT_HEARTBEAT per agent, item and minute (`output_progress`), which the router
counts as progress on the agent's assignment. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from rig_contracts import catalogue as c
from rig_contracts import payloads as p
from rig_ingest.runtime_mapping import AgentLogs, Mapped, Run, RunLogLine, subject_of

OUTPUT_PROGRESS_EVERY_S = 60
"""An agent's output lines about an item count as progress at most once per this many seconds."""


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


def output_items(body: AgentLogs) -> list[tuple[str, int]]:
    """The work items (repo, number) the lines name, each once, in the order they first appear."""
    return list(dict.fromkeys((e.repo, e.issue_number) for e in body.entries if e.repo and e.issue_number))


def output_progress(agent: str, repo: str, number: int, now: datetime) -> Mapped:
    """AGENT_HEARTBEAT from `agent:{agent}`: its output names `repo#number`, so it is busy on it.

    Keyed by the minute, once: however many lines come, one such event per agent, item and minute is stored.
    """
    subject = subject_of(repo, number)
    bucket = int(now.timestamp()) // OUTPUT_PROGRESS_EVERY_S
    data = p.AgentHeartbeat(agent=agent, status="busy", current_task=subject, current_repo=repo,
                            current_issue=number)
    event = c.AgentHeartbeatEvent(source=f"agent:{agent}", subject=subject, key=f"output:{agent}:{subject}:{bucket}",
                                  data=data)
    return Mapped(event, once=True)
