"""The pure rules: latest check runs and statuses, suite outcomes, approvals and the merge gate."""

from __future__ import annotations

from typing import Any

from rig_sandbox.records import CheckRun, CommitStatus, Review
from rig_sandbox.verdicts import MergeGate, approved, combined_state, latest_runs, merge_gate, suite_outcome


def run(run_id: int, name: str = "ci", status: str = "completed", conclusion: str | None = "success") -> CheckRun:
    return CheckRun(id=run_id, suite_id=1, app_role="conductor", head_sha="a" * 40, name=name, status=status,
                    conclusion=conclusion)


def status(status_id: int, state: str, context: str = "ci") -> CommitStatus:
    return CommitStatus(id=status_id, sha="a" * 40, state=state, context=context, creator="x")


def review(review_id: int, user: str, state: str) -> Review:
    return Review(id=review_id, number=1, user=user, body="", state=state, commit_id="a" * 40)


def gate(**changes) -> MergeGate:
    values: dict[str, Any] = {"conflicted": False, "runs": [], "statuses": [], "require_review": False,
                              "is_approved": False, "require_up_to_date": False, "up_to_date": True, "draft": False}
    values |= changes
    return merge_gate(**values)


def test_the_latest_run_per_name_counts():
    runs = [run(1, conclusion="failure"), run(2), run(3, name="lint", status="in_progress", conclusion=None)]
    assert [r.id for r in latest_runs(runs)] == [2, 3]
    assert suite_outcome(runs) == ("in_progress", None)
    assert suite_outcome([run(1), run(2, name="lint", conclusion="failure")]) == ("completed", "failure")
    assert suite_outcome([run(1), run(2, name="lint", conclusion="neutral")]) == ("completed", "neutral")


def test_combined_status_is_failure_pending_or_success():
    assert combined_state([]) == "pending"
    assert combined_state([status(1, "failure"), status(2, "success")]) == "success"
    assert combined_state([status(1, "success"), status(2, "error", "lint")]) == "failure"
    assert combined_state([status(1, "success"), status(2, "pending", "lint")]) == "pending"


def test_approval_needs_someone_else_and_no_outstanding_change_request():
    assert not approved([review(1, "author", "APPROVED")], "author")
    assert approved([review(1, "bob", "CHANGES_REQUESTED"), review(2, "bob", "APPROVED")], "author")
    assert not approved([review(1, "bob", "APPROVED"), review(2, "eve", "CHANGES_REQUESTED")], "author")
    assert not approved([review(1, "bob", "APPROVED"), review(2, "bob", "DISMISSED")], "author")


def test_the_merge_gate_names_the_first_reason():
    assert gate().state == "clean" and gate().reason is None
    assert gate(conflicted=True, runs=[run(1, conclusion="failure")]).state == "dirty"
    assert gate(runs=[run(1, conclusion="timed_out")]).reason == 'Required status check "ci" is failing.'
    assert gate(runs=[run(1, status="queued", conclusion=None)]).reason == 'Required status check "ci" is expected.'
    assert gate(statuses=[status(1, "pending", "deploy")]).state == "blocked"
    assert gate(require_review=True).state == "blocked"
    assert gate(require_review=True, is_approved=True).state == "clean"
    assert gate(up_to_date=False).state == "clean"
    assert gate(require_up_to_date=True, up_to_date=False).state == "behind"
    assert gate(draft=True).state == "draft"
