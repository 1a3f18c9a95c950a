"""Fields of stream entries besides the event itself: where the envelope goes, and the entries that are not events."""

from __future__ import annotations

EVENT_FIELD = "event"
"""Stream entry field that holds an event's JSON envelope."""

ASSIGNMENT_FIELDS: dict[str, str] = {
    "repo": "owner/name.",
    "issueNumber": "The issue number; for review-e, the PR number.",
    "title": "Issue title.",
    "priority": "Priority label, if any.",
    "stack": "Stack from .rig-agent.yaml.",
    "testCommand": "Test command from .rig-agent.yaml.",
    "buildCommand": "Build command from .rig-agent.yaml.",
    "tools": "Extra tools, comma-separated.",
    "body": "Issue body (untrusted text); in a dispute or fix assignment followed by the review's text, marked.",
    "issueBody": "The issue body alone (dev assignments).",
    "feedback": "The review's text or the reason for a fix (dev assignments).",
    "linkedIssue": "The work item's issue number (review assignments, whose issueNumber is the PR).",
}
"""Flat fields beside the envelope in an assignment entry, for the public agent runtime (docs/design.md section 9)."""

DEAD_LETTER_FIELDS: dict[str, str] = {
    "stream": "Stream the entry came from.",
    "group": "Consumer group that gave up on it.",
    "entry_id": "The entry's id in that stream.",
    "deliveries": "How often it was delivered.",
    "consumer": "Consumer that held it last.",
    "error": "The last handler error, or why there is none.",
    "failed_at": "When it was dead-lettered (ISO 8601, UTC).",
    "fields": "The entry's own fields, as a JSON object in text.",
}
"""Fields of a `rig:dead` entry (written by rig_bus.reclaim; every value is text)."""

LOG_LINE_FIELDS: dict[str, str] = {
    "agentId": "Agent id or human login whose output this is.",
    "ts": "When the line was written (ISO 8601).",
    "level": "info, warn, error, debug.",
    "message": "The output line.",
    "repo": "owner/name of the work item, if any.",
    "issueNumber": "Issue number of the work item, if any.",
    "runId": "The run the line belongs to (RUN_STARTED's run_id), if any; the costs service keeps lines by run.",
}
"""One output line, as the public runtime posts it to `/api/agent-logs` (docs/design.md section 9)."""
