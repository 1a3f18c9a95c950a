"""Every transition of docs/design.md section 5, one event at a time, with the decisions each one makes."""

from dataclasses import replace
from typing import Any

import pytest
from workflow_support import (
    BRANCH,
    POLICY,
    PR,
    A,
    B,
    C,
    approved,
    assigned,
    budget,
    closed,
    disputed,
    escalated,
    kinds,
    merge_blocked,
    merge_requested,
    merged,
    passed,
    pr_closed,
    pr_created,
    pr_updated,
    reason_of,
    review_assigned,
    review_loop_to_approval,
    run,
    started,
    unapproved,
)

from rig_workflow import (
    AssignDev,
    AssignReview,
    Block,
    Cancel,
    Command,
    Done,
    Escalate,
    Policy,
    RequestMerge,
    State,
    WorkItem,
)


def test_approval_assigns_the_stacks_dev_agent():
    item, commands, _ = run([approved()])
    assert item.state is State.APPROVED and item.approved
    assert commands == [AssignDev("label:1:assign-dev", "dev-e-python", "python", 1)]


@pytest.mark.parametrize("policy", [Policy(stack="ios"), Policy(stack="node", requires_macos=True)])
def test_ios_and_macos_work_goes_to_ibuild(policy):
    _, commands, _ = run([approved()], policy)
    assert isinstance(commands[0], AssignDev) and commands[0].agent == "ibuild-e"


def test_a_bad_config_blocks_and_a_matched_escalation_escalates():
    item, commands, _ = run([approved()], Policy(config_error="stack: must be one of node, python"))
    assert item.state is State.BLOCKED and commands == [Block("label:1:block", "stack: must be one of node, python")]
    item, commands, _ = run([approved()], Policy(escalation="matched 'needs a designer'"))
    assert item.state is State.ESCALATED and kinds(commands) == ["Escalate"]


def test_assigned_then_started_then_pr_opened_then_in_review():
    item, commands, _ = run([approved(), assigned()])
    assert item.state is State.ASSIGNED
    item, _, _ = run([started()], item=item)
    assert item.state is State.IN_PROGRESS and (item.branch, item.reported_branch) == ("", BRANCH)
    item, commands, _ = run([pr_created(A)], item=item)
    assert item.state is State.PR_OPEN and item.pr_number == PR and item.head_sha == A and item.branch == BRANCH
    assert commands == [AssignReview("pr:opened:assign-review", PR, A, 1)]
    item, commands, _ = run([review_assigned(A)], item=item)
    assert item.state is State.IN_REVIEW and commands == []


def test_changes_requested_go_back_to_the_same_agent_on_the_same_branch_then_review_again():
    item, _, _ = run([approved(), assigned(), started(), pr_created(A), review_assigned(A)])
    item, commands, _ = run([disputed(A, feedback="Handle the empty cart.")], item=item)
    assert item.state is State.CHANGES_REQUESTED and item.disputes == 1
    assert commands == [AssignDev("review:2:assign-dev", "dev-e-python", "python", 2, "changes requested", BRANCH,
                                  "Handle the empty cart.")]
    item, _, _ = run([started("started:2", branch="other")], item=item)
    assert item.state is State.IN_PROGRESS and item.branch == BRANCH
    item, commands, _ = run([pr_updated(B, A)], item=item)
    assert item.state is State.IN_REVIEW and commands == [AssignReview("push:b:assign-review", PR, B, 2)]


def test_approval_merge_merged_and_closed_is_done():
    item, commands, _ = run(review_loop_to_approval())
    assert item.state is State.APPROVED_FOR_MERGE and item.approved_sha == A
    assert commands[-1] == RequestMerge("review:1:merge", PR, A)
    item, _, _ = run([merge_requested(A)], item=item)
    assert item.state is State.MERGING
    item, commands, _ = run([merged(A)], item=item)
    assert item.state is State.MERGED and commands == []
    item, commands, _ = run([closed("completed")], item=item)
    assert item.state is State.DONE and commands == [Done("closed:completed:done", PR, "f" * 40)]
    assert item.anomaly_count == 0


@pytest.mark.parametrize("merging", [False, True])
def test_a_push_after_approval_voids_it_and_reviews_the_new_head_once(merging):
    item, _, _ = run([*review_loop_to_approval(), *([merge_requested(A)] if merging else [])])
    item, commands, _ = run([pr_updated(B, A), pr_updated(B, A, key="push:b:again")], item=item)
    assert item.state is State.IN_REVIEW and item.approved_sha is None and item.head_sha == B
    assert commands == [AssignReview("push:b:assign-review", PR, B, 1)]


def test_merge_blocked_by_a_moved_head_goes_back_to_review():
    item, _, _ = run([*review_loop_to_approval(), merge_requested(A)])
    item, commands, _ = run([merge_blocked("head moved", A)], item=item)
    assert item.state is State.IN_REVIEW and item.approved_sha is None and commands == []
    item, commands, _ = run([pr_updated(B, A)], item=item)
    assert kinds(commands) == ["AssignReview"]


@pytest.mark.parametrize("reason", ["conflict", "behind", "checks failed"])
def test_merge_blocked_for_a_fixable_reason_goes_back_to_the_dev_agent(reason):
    item, _, _ = run([*review_loop_to_approval(), merge_requested(A)])
    item, commands, _ = run([merge_blocked(reason, A, detail="test: 2 failed")], item=item)
    assert item.state is State.IN_PROGRESS and item.fix_attempts == 1
    assert commands == [AssignDev(f"blocked:{reason}:a:assign-dev", "dev-e-python", "python", 2, reason, BRANCH,
                                  f"{reason}: test: 2 failed")]


def _block_and_fix(item: WorkItem, head: str, next_head: str, n: int) -> tuple[Any, list[Command], Any]:
    events = [merge_blocked("conflict", head, key=f"blocked:{n}"), pr_updated(next_head, head),
              passed(next_head, review_id=100 + n), merge_requested(next_head)]
    return run(events, item=item)


def test_fix_attempts_are_capped_then_escalate():
    item, _, _ = run([*review_loop_to_approval(), merge_requested(A)])
    heads = [A, B, C, "d" * 40]
    for n in range(3):
        item, commands, _ = _block_and_fix(item, heads[n], heads[n + 1], n)
        assert kinds(commands) == ["AssignDev", "AssignReview", "RequestMerge"]
    item, commands, _ = run([merge_blocked("behind", heads[3], key="blocked:last")], item=item)
    assert item.state is State.ESCALATED and kinds(commands) == ["Escalate"]
    assert "maxFixAttempts" in reason_of(commands[0])


def test_the_third_dispute_escalates():
    events = [approved(), assigned(), started(), pr_created(A), disputed(A, 11), pr_updated(B, A),
              disputed(B, 12), pr_updated(C, B)]
    item, commands, _ = run(events)
    assert kinds(commands) == ["AssignDev", "AssignReview", "AssignDev", "AssignReview", "AssignDev", "AssignReview"]
    assert [c.round for c in commands if isinstance(c, AssignReview)] == [1, 2, 3]
    item, commands, _ = run([disputed(C, 13)], item=item)
    assert item.state is State.ESCALATED and commands == [
        Escalate("review:13:escalate", "review disputed 3 times (maxReviewRounds 3)")]


def test_max_review_rounds_comes_from_the_policy():
    item, commands, _ = run([approved(), pr_created(A), disputed(A, 11)], replace(POLICY, max_review_rounds=1))
    assert item.state is State.ESCALATED and kinds(commands) == ["AssignDev", "AssignReview", "Escalate"]


@pytest.mark.parametrize("stage", [1, 3, 5, 7])
def test_label_removed_mid_work_cancels_and_stops_assignments(stage):
    item, _, _ = run([*review_loop_to_approval(), merge_requested(A)][:stage])
    item, commands, _ = run([unapproved()], item=item)
    assert item.state is State.CANCELLED
    assert commands == [Cancel("unlabel:1:cancel", "agent-ready label removed by bob")]
    item, commands, _ = run([pr_updated(C, A), disputed(C, 9), merge_blocked("conflict", C)], item=item)
    assert item.state is State.CANCELLED and commands == []


@pytest.mark.parametrize("reason", ["not_planned", "duplicate"])
def test_closed_other_than_completed_cancels(reason):
    item, commands, _ = run([approved(), assigned(), closed(reason)])
    assert item.state is State.CANCELLED and kinds(commands) == ["AssignDev", "Cancel"]
    assert reason_of(commands[-1]) == f"issue closed as {reason.replace('_', ' ')}"


def test_closed_as_completed_stops_assignments_and_stays_closed_without_a_merge():
    item, commands, _ = run([approved(), pr_created(A), closed("completed"), disputed(A, 5), pr_updated(B, A)])
    assert item.state is State.CLOSED and kinds(commands) == ["AssignDev", "AssignReview"]
    item, commands, _ = run([merged(B)], item=item)
    assert item.state is State.DONE and kinds(commands) == ["Done"]


def test_budget_exceeded_blocks_the_next_assignment():
    item, _, _ = run([approved(), pr_created(A), budget()])
    item, commands, _ = run([disputed(A, 4)], item=item)
    assert item.state is State.BLOCKED and kinds(commands) == ["Block"] and "budget" in reason_of(commands[0])
    item, commands, _ = run([approved()], replace(POLICY, repo_budget_spent=True))
    assert item.state is State.BLOCKED and kinds(commands) == ["Block"]


def test_a_pr_closed_without_merging_escalates():
    item, commands, _ = run([approved(), pr_created(A), pr_closed()])
    assert item.state is State.ESCALATED and commands[-1] == Escalate("pr:closed:escalate",
                                                                      f"PR #{PR} closed without merging")


def test_an_agent_escalation_halts_and_the_routers_own_echo_changes_nothing():
    item, commands, _ = run([approved(), escalated(source="router")])
    assert item.state is State.APPROVED
    item, commands, _ = run([escalated()], item=item)
    assert item.state is State.ESCALATED and commands == []
    item, commands, _ = run([pr_created(A), merged(A), closed()], item=item)
    assert item.state is State.DONE and kinds(commands) == ["Done"]


@pytest.mark.parametrize("halt", ["bad config", "escalated", "unlabeled"])
def test_a_new_approval_restarts_a_blocked_escalated_or_cancelled_item(halt):
    policies = {"bad config": Policy(config_error="stack: rust"), "escalated": Policy(escalation="needs a person")}
    item, _, _ = run([approved()], policies.get(halt, POLICY))
    if halt == "unlabeled":
        item, _, _ = run([pr_created(A), disputed(A, 3), unapproved()], item=item)
    assert item.state in (State.BLOCKED, State.ESCALATED, State.CANCELLED)
    item, commands, _ = run([approved("label:again")], item=item)
    assert item.anomaly_count == 0 and item.disputes == 0
    if halt == "unlabeled":
        assert item.state is State.PR_OPEN and kinds(commands) == ["AssignReview"], "the open PR is reviewed again"
    else:
        assert item.state is State.APPROVED and kinds(commands) == ["AssignDev"]


def test_a_new_approval_of_a_closed_issue_restarts_nothing():
    item, _, _ = run([approved(), closed("not_planned"), approved("label:again")])
    assert item.state is State.CANCELLED and item.anomaly_count == 1
