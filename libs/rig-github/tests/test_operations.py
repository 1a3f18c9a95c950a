"""The helpers the services use, against the fake GitHub: idempotent merges and comments, reviews, checks …"""

from __future__ import annotations

import pytest
from github_apps import APPS

from rig_github import (
    GitHubClient,
    HeadMovedError,
    NotMergeableError,
    Role,
    ValidationFailedError,
    marker,
)

CONDUCTOR_APP, DEV_APP = APPS[Role.CONDUCTOR][0], APPS[Role.DEV][0]


async def test_a_squash_merge_at_the_approved_sha_and_its_retry_merge_once(fake, conductor):
    fake.state.add_pull("o/r", 7, head_sha="abc123", author_app=DEV_APP)

    first = await conductor.merge("o/r", 7, "abc123")
    again = await conductor.merge("o/r", 7, "abc123")  # a retry after a lost answer, or a redelivered event

    assert (first.merged, first.already_merged, first.merge_commit_sha) == (True, False, "merge1")
    assert (again.merged, again.already_merged, again.merge_commit_sha) == (True, True, "merge1")
    assert fake.state.merges == [("o/r", 7, "squash")]


async def test_a_merge_at_a_stale_sha_is_refused_as_head_moved(fake, conductor):
    fake.state.add_pull("o/r", 8, head_sha="new456", author_app=DEV_APP)
    with pytest.raises(HeadMovedError) as caught:
        await conductor.merge("o/r", 8, "old123")
    assert caught.value.status == 409
    assert "new456" in caught.value.message and "Head branch was modified" in caught.value.message
    assert fake.state.merges == []


async def test_a_pr_github_will_not_merge_is_not_mergeable(fake, conductor):
    fake.state.add_pull("o/r", 9, head_sha="abc", author_app=DEV_APP, mergeable_state="blocked")
    with pytest.raises(NotMergeableError, match="blocked"):
        await conductor.merge("o/r", 9, "abc")


async def test_a_keyed_comment_is_posted_once(fake, conductor):
    first = await conductor.comment_once("o/r", 3, "blocked:o/r#3:cfg", "`.rig-agent.yaml`: stack is invalid")
    again = await conductor.comment_once("o/r", 3, "blocked:o/r#3:cfg", "`.rig-agent.yaml`: stack is invalid")
    other = await conductor.comment_once("o/r", 3, "escalated:o/r#3", "needs a human")

    assert (first.posted, again.posted, other.posted) == (True, False, True)
    assert again.id == first.id
    bodies = [c["body"] for c in fake.state.comments[("o/r", 3)]]
    assert len(bodies) == 2
    assert bodies[0].endswith(marker("blocked:o/r#3:cfg")) and "<!-- rig:blocked:o/r#3:cfg -->" in bodies[0]
    with pytest.raises(ValueError, match="comment key"):
        marker("x --> <script>")


async def test_a_file_on_the_default_branch_comes_with_its_blob_sha(fake, conductor):
    fake.state.files[("o/r", ".rig-agent.yaml")] = "stack: node\ntestCommand: npm test\n"
    found = await conductor.get_file("o/r", ".rig-agent.yaml")
    assert found is not None
    assert found.text == "stack: node\ntestCommand: npm test\n"
    assert len(found.sha) == 40
    assert await conductor.get_file("o/other", ".rig-agent.yaml") is None


async def test_labels_are_added_and_removed_idempotently(fake, conductor):
    await conductor.add_labels("o/r", 5, "agent-ready", "rig:blocked")
    await conductor.add_labels("o/r", 5, "agent-ready")
    await conductor.remove_label("o/r", 5, "rig:blocked")
    await conductor.remove_label("o/r", 5, "rig:blocked")  # not there any more: fine
    assert fake.state.labels[("o/r", 5)] == ["agent-ready"]


async def test_a_pull_request_snapshot_carries_its_mergeability(fake, conductor):
    fake.state.add_pull("o/r", 4, head_sha="h4", author_app=DEV_APP, mergeable_state="dirty")
    pull = await conductor.get_pull("o/r", 4)
    assert (pull.number, pull.head_sha, pull.base_ref, pull.mergeable_state, pull.merged) == (4, "h4", "main",
                                                                                              "dirty", False)
    assert pull.body == "Closes #1"


async def test_get_pull_can_wait_for_github_to_settle_mergeability(fake, conductor):
    fake.state.add_pull("o/r", 10, head_sha="h10", author_app=DEV_APP)
    fake.state.pulls[("o/r", 10)]["unknown_reads"] = 2
    assert (await conductor.get_pull("o/r", 10)).mergeable_state == "unknown"
    settled = await conductor.get_pull("o/r", 10, settle=5)
    assert (settled.mergeable_state, settled.mergeable) == ("clean", True)
    assert len([s for s in fake.state.seen if s.path == "/repos/o/r/pulls/10"]) == 3


async def test_review_e_approves_at_a_commit_but_an_author_cannot(fake, make_settings, conductor):
    fake.state.add_pull("o/r", 6, head_sha="h6", author_app=CONDUCTOR_APP)
    async with GitHubClient(make_settings(), Role.REVIEW) as review:
        approved = await review.create_review("o/r", 6, "h6", "APPROVE", "looks right")
    with pytest.raises(ValidationFailedError, match="Can not approve your own pull request") as caught:
        await conductor.create_review("o/r", 6, "h6", "APPROVE")
    assert caught.value.status == 422

    [listed] = await conductor.list_reviews("o/r", 6)
    assert (approved.state, approved.commit_id) == ("APPROVED", "h6")
    assert (listed.id, listed.state, listed.commit_id, listed.body) == (approved.id, "APPROVED", "h6", "looks right")


async def test_review_e_with_a_personal_access_token(fake, make_settings):
    fake.state.personal_tokens["ghp_review"] = 999
    fake.state.add_pull("o/r", 2, head_sha="h2", author_app=DEV_APP)
    settings = make_settings(github_review_app_id=None, github_review_installation_id=None,
                             github_review_private_key=None, github_review_token="ghp_review")
    async with GitHubClient(settings, Role.REVIEW) as review:
        made = await review.create_review("o/r", 2, "h2", "REQUEST_CHANGES", "tests fail")
        assert await review.installation_token() == "ghp_review"
    assert made.state == "CHANGES_REQUESTED"
    assert fake.state.tokens == {}


async def test_checks_and_combined_status_of_a_commit(fake, conductor):
    fake.state.check_runs["c1"] = [{"id": 1, "name": "test", "status": "completed", "conclusion": "failure"},
                                   {"id": 2, "name": "lint", "status": "in_progress", "conclusion": None}]
    fake.state.statuses["c1"] = [{"context": "ci/build", "state": "success", "description": "ok"}]
    checks = await conductor.checks("o/r", "c1")
    assert [(r.name, r.status, r.conclusion) for r in checks.check_runs] == [
        ("test", "completed", "failure"), ("lint", "in_progress", None)]
    assert checks.combined_state == "success"
    assert [(s.context, s.state) for s in checks.statuses] == [("ci/build", "success")]


async def test_opening_a_pr_twice_returns_the_open_one(fake, make_settings):
    async with GitHubClient(make_settings(), Role.DEV) as dev:
        opened = await dev.open_pull("o/r", head="agent/issue-1", title="Fix #1", body="Closes #1")
        again = await dev.open_pull("o/r", head="agent/issue-1", title="Fix #1", body="Closes #1")
    assert opened.number == again.number == 1
    assert (opened.head_ref, opened.base_ref, opened.mergeable_state) == ("agent/issue-1", "main", "unknown")
    assert len(fake.state.pulls) == 1


async def test_webhook_deliveries_are_listed_read_and_redelivered_as_the_app(fake, conductor):
    fake.state.deliveries = [
        {"id": n, "guid": f"g{n}", "delivered_at": "2026-11-25T12:00:00Z", "redelivery": False, "duration": 0.1,
         "status": "Invalid HTTP Response: 503" if n == 2 else "OK", "status_code": 503 if n == 2 else 200,
         "event": "issues", "action": "labeled", "installation_id": 1001, "repository_id": 1}
        for n in (3, 2, 1)]
    first = await conductor.list_deliveries(per_page=2)
    rest = await conductor.list_deliveries(per_page=2, cursor=first.next_cursor)
    assert [d.id for d in first.deliveries] == [3, 2] and first.next_cursor == "v1_2"
    assert [d.id for d in rest.deliveries] == [1] and rest.next_cursor is None

    failed = await conductor.get_delivery(2)
    assert (failed.status_code, failed.event, failed.action) == (503, "issues", "labeled")
    assert failed.raw["response"]["payload"] == "oops"
    await conductor.redeliver(2)
    assert fake.state.redelivered == [2]
    # As the App: a JWT, not an installation token.
    assert all(s.credential.count(".") == 2 for s in fake.state.seen if s.path.startswith("/app/hook"))
