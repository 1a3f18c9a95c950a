"""CI results (`check_suite`, `check_run`, `status`) -> CHECKS_COMPLETED, its subject through the SHA map."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rig_contracts.catalogue import ChecksCompletedEvent
from rig_ingest.webhook import NOTHING, SOURCE, Delivery, Known, Translation, Wanted, obj, text, work_item

SUMMARY_LIMIT = 1000
"""Characters of a check's output summary carried in the event."""

FINAL_STATUSES = frozenset({"success", "failure", "error"})
"""Commit status states that mean the check finished (`pending` does not)."""


def _run(delivery: Delivery) -> Mapping[str, Any]:
    return obj(delivery.payload, delivery.event)


def head_sha(delivery: Delivery) -> str:
    """The commit a CI delivery is about, or "" when it is not a finished check."""
    if delivery.event == "status":
        return text(delivery.payload, "sha") if text(delivery.payload, "state") in FINAL_STATUSES else ""
    if delivery.event in ("check_suite", "check_run") and delivery.action == "completed":
        return text(_run(delivery), "head_sha")
    return ""


def listed_pr(delivery: Delivery) -> int | None:
    """The first pull request of this repository that the check lists (forks list none)."""
    for pr in _run(delivery).get("pull_requests") or ():
        base = text(obj(pr, "base", "repo"), "name")
        number = pr.get("number") if isinstance(pr, Mapping) else None
        if isinstance(number, int) and (not base or base == delivery.repo.split("/")[-1]):
            return number
    return None


def wanted(delivery: Delivery) -> Wanted:
    """The head SHA and listed PR to look up for a CI delivery."""
    sha = head_sha(delivery)
    pr = listed_pr(delivery)
    return Wanted(delivery.repo, frozenset({pr} if pr else ()), frozenset({sha} if sha else ()))


def translate(delivery: Delivery, known: Known) -> Translation:
    """CHECKS_COMPLETED for a finished suite, run or final commit status; nothing for the rest."""
    sha, repo = head_sha(delivery), delivery.repo
    if not sha or not repo:
        return NOTHING
    pr = known.heads.get(sha) or listed_pr(delivery)
    subject = work_item(repo, pr, known) if pr else f"{repo}@{sha}"
    if delivery.event == "status":
        name = text(delivery.payload, "context", "status")
        conclusion = text(delivery.payload, "state")
        summary = text(delivery.payload, "description")
        ident = f"status:{name}:{delivery.payload.get('id', delivery.guid)}"
    else:
        run = _run(delivery)
        kind = "suite" if delivery.event == "check_suite" else "run"
        name = text(run, "name") or text(obj(run, "app"), "name") or kind
        conclusion = text(run, "conclusion", "neutral")
        summary = text(obj(run, "output"), "summary")[:SUMMARY_LIMIT]
        ident = f"{kind}:{run.get('id', delivery.guid)}:{text(run, 'completed_at') or text(run, 'updated_at')}"
    event = ChecksCompletedEvent.of(
        source=SOURCE, subject=subject, key=f"checks:{repo}@{sha}:{ident}",
        data={"repo": repo, "sha": sha, "conclusion": conclusion, "pr_number": pr,
              "checks": [{"name": name, "conclusion": conclusion, "summary": summary}]})
    return Translation(events=(event,))
