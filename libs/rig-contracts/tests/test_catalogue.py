"""The catalogue: every type round-trips through JSON, refuses what it does not know, and cannot be changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from rig_contracts import EVENT_TYPES, Envelope, UnknownEventType, event_from_json, parse_event
from rig_contracts.catalogue import IssueApprovedEvent

USAGE = {"input_tokens": 1200, "output_tokens": 340, "cache_read_tokens": 9000, "cache_write_tokens": 800}

SAMPLES: dict[str, dict[str, Any]] = {
    "ISSUE_APPROVED": {"repo": "acme/shop", "number": 12, "title": "Fix the cart", "body": "It breaks.",
                       "labels": ("agent-ready", "bug"), "author": "ann", "approved_by": "bob"},
    "ISSUE_UNAPPROVED": {"repo": "acme/shop", "number": 12, "removed_by": "bob"},
    "ISSUE_CLOSED": {"repo": "acme/shop", "number": 12, "state_reason": "not_planned"},
    "ISSUE_CANCELLED": {"repo": "acme/shop", "number": 12, "reason": "label removed"},
    "ISSUE_ASSIGNED": {"repo": "acme/shop", "number": 12, "agent": "dev-e-node", "stack": "node",
                       "assignment_id": "asg-1", "attempt": 2},
    "ISSUE_ESCALATED": {"repo": "acme/shop", "number": 12, "reason": "needs Xcode (requires-macos)", "to": "ibuild-e"},
    "ISSUE_BLOCKED": {"repo": "acme/shop", "number": 12, "reason": ".rig-agent.yaml: stack must be one of …"},
    "WORK_STARTED": {"repo": "acme/shop", "number": 12, "agent": "dev-e-node", "branch": "rig/12-fix-cart",
                     "assignment_id": "asg-1"},
    "PR_CREATED": {"repo": "acme/shop", "pr_number": 40, "issue_number": 12, "head_sha": "a" * 40,
                   "head_ref": "rig/12-fix-cart", "base_ref": "main", "url": "https://github.com/acme/shop/pull/40",
                   "author": "dev-e[bot]"},
    "PR_REPORTED": {"repo": "acme/shop", "pr_number": 40, "url": "https://github.com/acme/shop/pull/40",
                    "branch": "rig/12-fix-cart", "reporter": "agent:dev-e-node"},
    "PR_UPDATED": {"repo": "acme/shop", "pr_number": 40, "head_sha": "b" * 40, "before_sha": "a" * 40},
    "PR_LABELS_CHANGED": {"repo": "acme/shop", "pr_number": 40, "labels": ("do-not-merge",)},
    "PR_CLOSED": {"repo": "acme/shop", "pr_number": 40},
    "REVIEW_ASSIGNED": {"repo": "acme/shop", "pr_number": 40, "head_sha": "b" * 40, "round": 1,
                        "assignment_id": "asg-2"},
    "REVIEW_PASSED": {"repo": "acme/shop", "pr_number": 40, "review_id": 9001, "commit_id": "b" * 40,
                      "reviewer": "review-e[bot]"},
    "REVIEW_DISPUTED": {"repo": "acme/shop", "pr_number": 40, "review_id": 9002, "commit_id": "b" * 40,
                        "reviewer": "review-e[bot]", "feedback": "Handle the empty cart."},
    "CHECKS_COMPLETED": {"repo": "acme/shop", "sha": "b" * 40, "conclusion": "failure", "pr_number": 40,
                         "checks": ({"name": "test", "conclusion": "failure", "summary": "2 failed"},
                                    {"name": "lint", "conclusion": "success"})},
    "MERGE_REQUESTED": {"repo": "acme/shop", "pr_number": 40, "head_sha": "b" * 40, "requested_by": "router"},
    "MERGE_BLOCKED": {"repo": "acme/shop", "pr_number": 40, "reason": "head moved", "detail": "now c…",
                      "head_sha": "b" * 40},
    "MERGED": {"repo": "acme/shop", "pr_number": 40, "sha": "b" * 40, "merge_sha": "c" * 40},
    "ISSUE_DONE": {"repo": "acme/shop", "number": 12, "pr_number": 40, "merge_sha": "c" * 40},
    "RUN_STARTED": {"repo": "acme/shop", "number": 12, "run_id": "run-1", "agent": "dev-e-node",
                    "provider": "claude", "model": "claude-sonnet-4-5"},
    "RUN_STEP": {"run_id": "run-1", "step": "provider", "status": "succeeded", "detail": "3 turns", "turns": 3,
                 "usage": USAGE, "cost_usd": 0.0123},
    "RUN_FINISHED": {"repo": "acme/shop", "number": 12, "run_id": "run-1", "status": "succeeded", "turns": 3,
                     "usage": USAGE, "cost_usd": 0.0123, "provider_cost_usd": 0.0125, "duration_ms": 65000,
                     "duration_api_ms": 41000, "pr_number": 40},
    "TOKEN_USAGE": {"agent": "dev-e-node", "model": "claude-haiku-4-5", "category": "idle", "usage": USAGE,
                    "cost_usd": None},
    "AGENT_HEARTBEAT": {"agent": "dev-e-node", "status": "busy", "provider": "claude", "current_task": "acme/shop#12"},
    "AGENT_STUCK": {"agent": "dev-e-node", "reason": "tests need a database it cannot start"},
    "BUDGET_EXCEEDED": {"scope": "issue", "repo": "acme/shop", "number": 12, "limit_usd": 5.0, "spent_usd": 5.2},
    "BUDGET_WARNING": {"scope": "repo_day", "repo": "acme/shop", "limit_usd": 20.0, "spent_usd": 16.4},
    "TOKEN_REVOKED": {"jti": "tok-7", "expires_at": "2026-03-01T00:00:00+00:00", "revoked_by": "human:ann"},
}
"""A realistic `data` for every type, with the optional fields filled in."""


def sample(kind: str, **envelope: Any) -> Envelope:
    """Build the sample event of `kind`."""
    fields = {"source": "ingest", "subject": "acme/shop#12", "key": f"{kind.lower()}:acme/shop#12", **envelope}
    return EVENT_TYPES[kind].of(**fields, data=SAMPLES[kind])


def test_every_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)


@pytest.mark.parametrize("kind", list(EVENT_TYPES))
def test_every_type_round_trips_through_json(kind: str) -> None:
    event = sample(kind)

    parsed = event_from_json(event.to_json())

    assert type(parsed) is EVENT_TYPES[kind]
    assert parsed == event
    assert parsed.to_json() == event.to_json()
    assert event_from_json(event.to_json().encode()) == event


@pytest.mark.parametrize("kind", list(EVENT_TYPES))
def test_unknown_payload_fields_are_refused(kind: str) -> None:
    raw = json.loads(sample(kind).to_json())
    raw["data"]["surprise"] = 1

    with pytest.raises(ValidationError, match="surprise"):
        parse_event(raw)


def test_unknown_envelope_fields_are_refused() -> None:
    raw = json.loads(sample("PR_CLOSED").to_json())
    raw["priority"] = "high"

    with pytest.raises(ValidationError, match="priority"):
        parse_event(raw)


def test_data_of_another_type_is_refused() -> None:
    raw = json.loads(sample("PR_CLOSED").to_json())
    raw["type"] = "ISSUE_APPROVED"

    with pytest.raises(ValidationError, match="number"):
        parse_event(raw)


def test_events_and_their_payloads_are_frozen() -> None:
    event = sample("ISSUE_APPROVED")
    assert isinstance(event, IssueApprovedEvent)

    with pytest.raises(ValidationError, match="frozen"):
        event.subject = "acme/other#1"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        event.data.title = "changed"  # type: ignore[misc]
    assert hash(event) == hash(event_from_json(event.to_json()))


def test_an_unknown_type_says_what_to_do() -> None:
    raw = {**json.loads(sample("PR_CLOSED").to_json()), "type": "PR_EXPLODED"}

    with pytest.raises(UnknownEventType, match=r"unknown event type 'PR_EXPLODED'.*upgrade this service") as caught:
        parse_event(raw)
    assert raw["id"] in str(caught.value)


@pytest.mark.parametrize("kind", [None, 7, ["PR_CLOSED"], {"x": 1}])
def test_a_missing_or_odd_type_is_unknown_too(kind: object) -> None:
    raw = {**json.loads(sample("PR_CLOSED").to_json()), "type": kind}

    with pytest.raises(UnknownEventType):
        parse_event(raw)


@pytest.mark.parametrize("text", ["[1, 2]", '"ISSUE_APPROVED"', "null"])
def test_json_that_is_not_an_object_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must be a JSON object"):
        event_from_json(text)


def test_payload_values_are_checked() -> None:
    with pytest.raises(ValidationError, match="repo"):
        EVENT_TYPES["PR_CLOSED"].of(source="ingest", subject="s", key="k",
                                    data={"repo": "https://github.com/acme/shop", "pr_number": 1})
    with pytest.raises(ValidationError, match="state_reason"):
        EVENT_TYPES["ISSUE_CLOSED"].of(source="ingest", subject="s", key="k",
                                       data={"repo": "acme/shop", "number": 1, "state_reason": "reopened"})
