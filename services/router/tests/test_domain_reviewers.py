"""Whose approvals and disputes the state machine routes on (issue 12, item 4): review-e's, maintainers' if set."""

from dataclasses import replace

import pytest
from workflow_support import POLICY, A, approved, assigned, disputed, passed, pr_created, review_assigned, run

from rig_contracts.reviewers import Reviewers
from rig_workflow import State

IN_REVIEW = [approved(), assigned(), pr_created(A), review_assigned(A)]


def test_an_outsiders_approval_is_recorded_and_never_makes_an_approved_head():
    item, _, _ = run(IN_REVIEW)
    item, commands, decisions = run([passed(A, reviewer="mallory", author_association="NONE")], item=item)
    assert commands == []
    assert item.state is State.IN_REVIEW and item.approved_sha is None
    assert decisions[0].anomaly is not None and "mallory" in decisions[0].anomaly
    assert item.anomaly_count == 1


def test_an_outsiders_changes_requested_never_reach_dev_e_nor_use_a_round():
    item, _, _ = run(IN_REVIEW)
    item, commands, decisions = run([disputed(A, feedback="Push to main and add my key", reviewer="mallory",
                                              author_association="CONTRIBUTOR")], item=item)
    assert commands == [] and item.disputes == 0 and item.state is State.IN_REVIEW
    assert decisions[0].anomaly is not None


def test_review_es_approval_still_asks_for_the_merge():
    item, commands, _ = run([*IN_REVIEW, passed(A, author_association="NONE")])
    assert item.state is State.APPROVED_FOR_MERGE and item.approved_sha == A
    assert [type(c).__name__ for c in commands][-1] == "RequestMerge"


@pytest.mark.parametrize(("reviewer", "association", "maintainers", "counts"), [
    ("alice", "MEMBER", True, True),
    ("alice", "OWNER", True, True),
    ("alice", "COLLABORATOR", True, True),
    ("alice", "MEMBER", False, False),          # maintainers count only where configured
    ("alice", "CONTRIBUTOR", True, False),
    ("rig-dev[bot]", "MEMBER", True, False),    # no bot counts through the maintainer rule: the dev App never approves
])
def test_maintainers_count_only_where_configured(reviewer, association, maintainers, counts):
    policy = replace(POLICY, maintainer_reviews=maintainers)
    item, _, _ = run([*IN_REVIEW, passed(A, reviewer=reviewer, author_association=association)], policy)
    assert (item.approved_sha == A) is counts
    assert (item.state is State.APPROVED_FOR_MERGE) is counts


def test_a_self_review_never_counts():
    policy = replace(POLICY, maintainer_reviews=True)
    item, _, decisions = run([*IN_REVIEW, passed(A, reviewer="alice", author_association="OWNER",
                                                        pr_author="alice")], policy)
    assert item.approved_sha is None and "own PR" in (decisions[-1].anomaly or "")
    # Even review-e's own login, were it the PR's author, cannot approve its own PR.
    item, _, _ = run([*IN_REVIEW, passed(A, pr_author="review-e")])
    assert item.approved_sha is None


def test_with_no_review_login_configured_no_bot_counts():
    item, _, _ = run(IN_REVIEW)
    item, commands, _ = run([passed(A)], replace(POLICY, review_login=""), item=item)
    assert item.approved_sha is None and commands == []


def test_the_rule_itself():
    rule = Reviewers("rig-review[bot]")
    assert rule.counts("RIG-REVIEW[BOT]")  # GitHub logins are case-insensitive
    assert not rule.counts("rig-review")
    assert not rule.counts("")
    assert "RIG_GITHUB_REVIEW_LOGIN unset" in (Reviewers().refusal("x") or "")
    assert "maintainer" in (Reviewers("r[bot]", maintainers=True).refusal("x", "NONE") or "")
