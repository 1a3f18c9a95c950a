"""Who moves code, pure: a reported branch is shown and never worked on; only PRs from the base repository by the
dev App (or a trusted person), opened once the issue is approved, become the item's PR; others are foreign."""

from dataclasses import replace

import pytest
from workflow_support import (
    BRANCH,
    DEV_BOT,
    POLICY,
    PR,
    REPO,
    A,
    B,
    C,
    approved,
    assigned,
    disputed,
    kinds,
    pr_created,
    pr_updated,
    review_assigned,
    run,
    started,
)

from rig_workflow import AssignDev, AssignReview, State

FORK = "outsider/shop"
FORK_PR = 41


def test_a_branch_reported_before_the_approval_never_reaches_the_dev_assignment():
    item, commands, decisions = run([started("started:early", branch="main"), approved()])
    [assign] = commands
    assert isinstance(assign, AssignDev) and assign.branch == "" and assign.reason == "new"
    # Nobody holds an item before its approval, so the report is not even recorded as the reported branch.
    assert (item.branch, item.reported_branch) == ("", "")
    assert decisions[0].anomaly is not None and "does not hold the item" in decisions[0].anomaly


def test_a_branch_reported_during_the_work_does_not_replace_the_adopted_prs_branch():
    item, commands, _ = run([approved(), assigned(), started("started:main", branch="main"), pr_created(A),
                             review_assigned(A), disputed(A, 5)])
    dev = [c for c in commands if isinstance(c, AssignDev)]
    assert [(c.reason, c.branch) for c in dev] == [("new", ""), ("changes requested", BRANCH)]
    assert item.state is State.CHANGES_REQUESTED and (item.branch, item.reported_branch) == (BRANCH, "main")


def test_a_fork_pr_named_main_is_foreign_its_dispute_and_pushes_route_nothing():
    fork = pr_created(C, pr=FORK_PR, author="outsider", head_repo=FORK, head_ref="main")
    item, commands, decisions = run([approved(), assigned(), started(), fork, disputed(C, 7).model_copy(
        update={"data": disputed(C, 7).data.model_copy(update={"pr_number": FORK_PR})}),
        pr_updated(B, C, pr=FORK_PR, author="outsider", head_repo=FORK)])
    assert kinds(commands) == ["AssignDev"]  # the approval's only
    assert item.pr_number is None and item.branch == "" and item.foreign_prs == {FORK_PR}
    assert item.state is State.IN_PROGRESS and item.anomaly_count == 3
    assert f"the fork {FORK}" in (decisions[3].anomaly or "")
    item, commands, _ = run([pr_created(A)], item=item)  # the dev App's own PR is still adopted
    assert commands == [AssignReview("pr:opened:assign-review", PR, A, 1)] and item.branch == BRANCH


@pytest.mark.parametrize(("author", "head_repo", "why"), [
    ("mallory", REPO, "opened by mallory"),
    (DEV_BOT, FORK, f"the fork {FORK}"),
    (DEV_BOT, "", "an unknown repository"),  # a deleted fork, or an event from before head_repo existed
    ("", REPO, "an unknown author"),
])
def test_only_the_dev_apps_prs_from_the_base_repository_are_adopted(author, head_repo, why):
    item, commands, decisions = run([approved(), assigned(), pr_created(A, author=author, head_repo=head_repo)])
    assert kinds(commands) == ["AssignDev"] and item.pr_number is None and item.foreign_prs == {PR}
    assert why in (decisions[-1].anomaly or "")


def test_trusted_people_and_letter_case_are_accepted():
    policy = replace(POLICY, pr_authors=(DEV_BOT, "Alice"))
    for author, head_repo in (("alice", REPO), ("RIG-DEV[bot]", REPO.upper())):
        item, commands, _ = run([approved(), assigned(), pr_created(A, author=author, head_repo=head_repo)], policy)
        assert kinds(commands) == ["AssignDev", "AssignReview"] and item.pr_number == PR


def test_a_push_before_its_pr_created_adopts_only_on_the_same_terms():
    item, commands, _ = run([approved(), assigned(), pr_updated(B, A, author="outsider", head_repo=FORK)])
    assert kinds(commands) == ["AssignDev"] and item.pr_number is None and item.foreign_prs == {PR}
    item, commands, _ = run([approved(), assigned(), pr_updated(B, A), pr_created(A)])
    assert kinds(commands) == ["AssignDev", "AssignReview"] and (item.pr_number, item.head_sha) == (PR, B)
