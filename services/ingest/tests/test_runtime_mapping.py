"""The public runtime's bodies mapped onto our catalogue, without I/O: statuses, keys, what is refused."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from rig_ingest import runtime_lines
from rig_ingest import runtime_mapping as m
from rig_ingest.reporting import Refused, allowed_types, check_type, with_speaker

STARTED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
RUN = m.Run("run-1", "dev-e-node", "octo/widgets", 42, STARTED)


@pytest.mark.parametrize(("given", "ours"), [("completed", "succeeded"), ("Success", "succeeded"),
                                             ("failed", "failed"), ("timeout", "failed"),
                                             ("cancelled", "stopped"), ("escalated", "escalated"),
                                             ("paused", "paused")])
def test_final_statuses_map_onto_ours(given, ours):
    done = m.run_finished(RUN, m.RunCompletion.model_validate({"status": given}), STARTED + timedelta(seconds=90))
    assert done.event.data.status == ours
    assert done.event.data.duration_ms == 90_000 and done.once


def test_unknown_fields_are_ignored_and_wrong_ones_refused():
    step = m.RuntimeStep.model_validate({"type": "build", "status": "ok", "newField": [1], "detail": None})
    assert (step.type, step.detail) == ("build", "")
    with pytest.raises(ValidationError):
        m.RuntimeStep.model_validate({"type": "build", "turns": -1})
    with pytest.raises(ValidationError):
        m.RunOpening.model_validate({"repo": "not a repo", "issueNumber": 1, "agentId": "a"})


def test_idle_heartbeat_is_about_the_agent_and_a_pr_report_keys_on_the_pr():
    beat = m.runtime_event(m.RuntimeEvent.model_validate({"type": "HEARTBEAT", "agentId": "review-e"}),
                           "agent:review-e")
    assert (beat.event.subject, beat.event.data.current_task, beat.once) == ("agent:review-e", None, False)
    body = {"type": "PR_CREATED", "agentId": "review-e", "repo": "o/r", "issueNumber": 3, "prNumber": 9}
    first = m.runtime_event(m.RuntimeEvent.model_validate(body), "agent:review-e")
    second = m.runtime_event(m.RuntimeEvent.model_validate(body), "agent:review-e")
    assert first.event.key == second.event.key == "pr-reported:o/r#9:review-e" and first.once
    assert first.event.id != second.event.id


def test_log_lines_carry_the_documented_fields_as_text():
    """A timestamp in milliseconds (the runtime's execution-log lines) becomes ISO 8601, as its agent-log lines are."""
    line = m.RunLogLine.model_validate({"timestamp": 1764064800000, "message": "hi"})
    lines = runtime_lines.run_log_entries(RUN, [line])
    assert lines == [{"agentId": "dev-e-node", "ts": "2025-11-25T10:00:00+00:00", "level": "info", "message": "hi",
                      "repo": "octo/widgets", "issueNumber": "42", "runId": RUN.run_id}]


def test_roles_and_speakers():
    assert "RUN_FINISHED" in allowed_types("agent:x") and "RUN_FINISHED" not in allowed_types("human:x")
    assert allowed_types("router") == allowed_types("cli:ops") == frozenset()
    with pytest.raises(Refused) as refused:
        check_type("agent:x", "MERGED")
    assert refused.value.status == 403
    assert with_speaker("AGENT_STUCK", {"reason": "r"}, "human:alice") == {"reason": "r", "agent": "alice"}
    with pytest.raises(Refused):
        with_speaker("PR_REPORTED", {"reporter": "bob"}, "human:alice")
