"""The helpers the services use, against the sandbox: idempotent merges and comments, reviews, checks …, each
checked by what the sandbox then shows (the branch, the comments, the labels, the deliveries)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import pytest

from rig_github import (
    GitHubClient,
    HeadMovedError,
    NotMergeableError,
    Role,
    ValidationFailedError,
    marker,
)


async def a_pull(github, repo: str, *, by: Role = Role.DEV, body: str = "Closes #1") -> tuple[int, str]:
    """A pull request from branch `feature` (one new file) opened by a role's App; its number and head SHA."""
    head = await github.push(repo, "feature", {"feature.txt": "a feature\n"})
    return await github.open_pull(repo, "feature", by=by, body=body), head


async def test_a_squash_merge_at_the_approved_sha_and_its_retry_merge_once(github, conductor, repo):
    number, head = await a_pull(github, repo)
    first_commit = (await github.read(f"/repos/{repo}/branches/main"))["commit"]["sha"]

    first = await conductor.merge(repo, number, head)
    again = await conductor.merge(repo, number, head)  # a retry after a lost answer, or a redelivered event

    assert (first.merged, first.already_merged) == (True, False) and first.merge_commit_sha
    assert (again.merged, again.already_merged, again.merge_commit_sha) == (True, True, first.merge_commit_sha)
    main = (await github.read(f"/repos/{repo}/branches/main"))["commit"]
    assert main["sha"] == first.merge_commit_sha  # one squash commit on top of the first one
    assert [parent["sha"] for parent in main["parents"]] == [first_commit]
    events = await github.call("GET", "/_sandbox/events", params={"limit": 1000}, expect=200)
    closed = [e for e in events if e["repository"] == repo and (e["event"], e["action"]) == ("pull_request", "closed")]
    assert len(closed) == 1


async def test_a_merge_at_a_stale_sha_is_refused_as_head_moved(github, conductor, repo):
    number, approved = await a_pull(github, repo)
    moved = await github.push(repo, "feature", {"feature.txt": "changed after the review\n"})
    with pytest.raises(HeadMovedError) as caught:
        await conductor.merge(repo, number, approved)
    assert caught.value.status == 409
    assert moved in caught.value.message and "Head branch was modified" in caught.value.message
    assert (await github.read(f"/repos/{repo}/pulls/{number}"))["merged"] is False


async def test_a_pr_github_will_not_merge_is_not_mergeable(github, conductor, repo):
    number, head = await a_pull(github, repo)
    await github.call("POST", f"/_sandbox/repos/{repo}/check-runs", expect=201,
                      json={"ref": head, "name": "test", "conclusion": "failure"})
    with pytest.raises(NotMergeableError, match="blocked") as caught:
        await conductor.merge(repo, number, head)
    assert 'Required status check "test" is failing' in caught.value.message


async def test_a_keyed_comment_is_posted_once(github, conductor, repo):
    number = await github.open_issue(repo)
    first = await conductor.comment_once(repo, number, "blocked:o/r#3:cfg", "`.rig-agent.yaml`: stack is invalid")
    again = await conductor.comment_once(repo, number, "blocked:o/r#3:cfg", "`.rig-agent.yaml`: stack is invalid")
    other = await conductor.comment_once(repo, number, "escalated:o/r#3", "needs a human")

    assert (first.posted, again.posted, other.posted) == (True, False, True)
    assert again.id == first.id
    comments = await github.read(f"/repos/{repo}/issues/{number}/comments")
    bodies = [c["body"] for c in comments]
    assert len(bodies) == 2 and comments[0]["user"]["login"] == "rig-conductor[bot]"
    assert bodies[0].endswith(marker("blocked:o/r#3:cfg")) and "<!-- rig:blocked:o/r#3:cfg -->" in bodies[0]
    with pytest.raises(ValueError, match="comment key"):
        marker("x --> <script>")


async def test_a_file_on_the_default_branch_comes_with_its_blob_sha(github, conductor):
    text = "stack: node\ntestCommand: npm test\n"
    repo = await github.new_repo({".rig-agent.yaml": text})
    found = await conductor.get_file(repo, ".rig-agent.yaml")
    assert found is not None
    assert found.text == text
    assert found.sha == hashlib.sha1(f"blob {len(text.encode())}\0{text}".encode()).hexdigest()  # git's blob id
    assert await conductor.get_file(repo, "missing.yaml") is None
    assert await conductor.get_file("o/no-such-repo", ".rig-agent.yaml") is None


async def test_labels_are_added_and_removed_idempotently(github, conductor, repo):
    number = await github.open_issue(repo)
    await conductor.add_labels(repo, number, "agent-ready", "rig:blocked")
    await conductor.add_labels(repo, number, "agent-ready")
    await conductor.remove_label(repo, number, "rig:blocked")
    await conductor.remove_label(repo, number, "rig:blocked")  # not there any more: fine
    labels = await github.read(f"/repos/{repo}/issues/{number}/labels")
    assert [label["name"] for label in labels] == ["agent-ready"]


async def test_a_pull_request_snapshot_carries_its_mergeability(github, conductor, repo):
    head = await github.push(repo, "feature", {"README.md": "# the feature's title\n"})
    number = await github.open_pull(repo, "feature", by=Role.DEV, body="Closes #1")
    await github.push(repo, "main", {"README.md": "# main's own title\n"})  # the same line: a conflict

    pull = await conductor.get_pull(repo, number)
    assert (pull.number, pull.head_sha, pull.base_ref, pull.mergeable_state, pull.merged) == (number, head, "main",
                                                                                              "dirty", False)
    assert pull.mergeable is False and pull.body == "Closes #1" and pull.author == "rig-dev[bot]"


async def test_get_pull_can_wait_for_github_to_settle_mergeability(short_lived):
    # In this sandbox, mergeability stays unknown for 1-2 s after a push, as GitHub's does while it computes.
    repo = await short_lived.new_repo()
    number, _ = await a_pull(short_lived, repo)
    since = time.time()
    async with GitHubClient(short_lived.settings(), Role.CONDUCTOR) as conductor:
        assert (await conductor.get_pull(repo, number)).mergeable_state == "unknown"
        settled = await conductor.get_pull(repo, number, settle=5)
    assert (settled.mergeable_state, settled.mergeable) == ("clean", True)
    assert len(await short_lived.requests(since=since, path=f"/repos/{repo}/pulls/{number}")) >= 3


async def test_review_e_approves_at_a_commit_but_an_author_cannot(github, make_settings, conductor, repo):
    number, head = await a_pull(github, repo, by=Role.CONDUCTOR)
    async with GitHubClient(make_settings(), Role.REVIEW) as review:
        approved = await review.create_review(repo, number, head, "APPROVE", "looks right")
    with pytest.raises(ValidationFailedError, match="Can not approve your own pull request") as caught:
        await conductor.create_review(repo, number, head, "APPROVE")
    assert caught.value.status == 422

    [listed] = await conductor.list_reviews(repo, number)
    assert (approved.state, approved.commit_id, approved.author) == ("APPROVED", head, "rig-review[bot]")
    assert (listed.id, listed.state, listed.commit_id, listed.body) == (approved.id, "APPROVED", head, "looks right")


async def test_review_e_with_a_personal_access_token(github, make_settings, repo):
    await github.call("POST", "/_sandbox/users", json={"login": "reviewer"}, expect=201)
    pat = (await github.call("POST", "/_sandbox/users/reviewer/tokens", expect=201))["token"]
    number, head = await a_pull(github, repo)
    settings = make_settings(github_review_app_id=None, github_review_installation_id=None,
                             github_review_private_key=None, github_review_token=pat)
    since = time.time()
    async with GitHubClient(settings, Role.REVIEW) as review:
        made = await review.create_review(repo, number, head, "REQUEST_CHANGES", "tests fail")
        assert await review.installation_token() == pat
    assert (made.state, made.author) == ("CHANGES_REQUESTED", "reviewer")
    assert await github.tokens_minted(Role.REVIEW, since) == []
    [listed] = await github.read(f"/repos/{repo}/pulls/{number}/reviews")
    assert (listed["user"]["login"], listed["state"]) == ("reviewer", "CHANGES_REQUESTED")


async def test_checks_and_combined_status_of_a_commit(github, conductor, repo):
    sha = await github.push(repo, "feature", {"feature.txt": "x\n"})
    for run in ({"name": "test", "conclusion": "failure"}, {"name": "lint", "status": "in_progress"}):
        await github.call("POST", f"/_sandbox/repos/{repo}/check-runs", json={"ref": sha, **run}, expect=201)
    await github.call("POST", f"/_sandbox/repos/{repo}/statuses", expect=201,
                      json={"ref": sha, "state": "success", "context": "ci/build", "description": "ok"})
    checks = await conductor.checks(repo, sha)
    assert sorted((r.name, r.status, r.conclusion) for r in checks.check_runs) == [
        ("lint", "in_progress", None), ("test", "completed", "failure")]
    assert checks.combined_state == "success"
    assert [(s.context, s.state, s.description) for s in checks.statuses] == [("ci/build", "success", "ok")]


async def test_opening_a_pr_twice_returns_the_open_one(github, make_settings, repo):
    await github.push(repo, "agent/issue-1", {"fix.txt": "fixed\n"})
    async with GitHubClient(make_settings(), Role.DEV) as dev:
        opened = await dev.open_pull(repo, head="agent/issue-1", title="Fix #1", body="Closes #1")
        again = await dev.open_pull(repo, head="agent/issue-1", title="Fix #1", body="Closes #1")
    assert opened.number == again.number
    assert (opened.head_ref, opened.base_ref, opened.author) == ("agent/issue-1", "main", "rig-dev[bot]")
    assert len(await github.read(f"/repos/{repo}/pulls?state=all")) == 1


async def delivered(github, repo_id: int, count: int) -> list[dict[str, Any]]:
    """The sandbox's deliveries about a repository, newest first, once `count` of them were attempted."""
    deadline = time.monotonic() + 10
    while True:
        found = [d for d in await github.call("GET", "/_sandbox/deliveries", expect=200)
                 if d["repository_id"] == repo_id]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_webhook_deliveries_are_listed_read_and_redelivered_as_the_app(github, conductor, repo):
    repo_id = (await github.read(f"/repos/{repo}"))["id"]
    number = await github.open_issue(repo)
    github.receiver.refusing.add((repo, "labeled"))  # the receiver answers 503 `oops` to this one
    await github.call("POST", f"/_sandbox/repos/{repo}/issues/{number}/labels", json={"labels": ["x"]}, expect=200)
    await github.call("DELETE", f"/_sandbox/repos/{repo}/issues/{number}/labels/x", expect=200)
    ours = await delivered(github, repo_id, 3)
    github.receiver.refusing.clear()
    since = time.time()

    first = await conductor.list_deliveries(per_page=2)
    rest = await conductor.list_deliveries(per_page=2, cursor=first.next_cursor)
    listed = [*first.deliveries, *rest.deliveries]
    assert [d.id for d in listed[:3]] == [d["id"] for d in ours[:3]]  # newest first, across pages
    assert [d.action for d in listed[:3]] == ["unlabeled", "labeled", "opened"]
    assert len(first.deliveries) == 2 and first.next_cursor is not None

    failed = await conductor.get_delivery(listed[1].id)
    assert (failed.status_code, failed.event, failed.action) == (503, "issues", "labeled")
    assert failed.raw["response"]["payload"] == "oops"
    await conductor.redeliver(failed.id)
    [again] = [d for d in await delivered(github, repo_id, 4) if d["redelivery"]]
    assert (again["guid"], again["status_code"]) == (failed.guid, 200)
    assert [status for guid, _, status in github.receiver.received if guid == failed.guid] == [503, 200]
    # As the App: its JWT, not an installation token.
    as_app = await github.requests(since=since, path="/app/hook/deliveries**")
    assert len(as_app) == 4 and {(e["credential"], e["app"]) for e in as_app} == {("jwt", "conductor")}


async def test_a_pulls_files_come_with_their_patches(github, conductor, repo):
    number, _head = await a_pull(github, repo)
    files = await conductor.pull_files(repo, number)
    assert [(f.filename, f.status, f.additions) for f in files] == [("feature.txt", "added", 1)]
    assert "+a feature" in files[0].patch


async def test_git_fetches_with_the_installation_token(github, conductor, repo, tmp_path):
    info = await conductor.get_repo(repo)
    token = await conductor.git_token()
    assert info.clone_url.endswith(f"/{repo}.git")
    url = info.clone_url.replace("://", f"://x-access-token:{token}@", 1)
    process = await asyncio.create_subprocess_exec("git", "clone", "--quiet", url, str(tmp_path / "clone"))
    assert await process.wait() == 0
    assert any(path.name != ".git" for path in (tmp_path / "clone").iterdir())  # the default branch came along


async def test_our_marker_in_someone_elses_comment_does_not_stop_our_comment(github, conductor, repo):
    number = await github.open_issue(repo)
    # A person writes the conductor's hidden marker, hoping to suppress the comment it would post.
    await github.call("POST", f"/repos/{repo}/issues/{number}/comments", token=github.reader_token, expect=201,
                      json={"body": f"nothing to see {marker('escalated:o/r#3')}"})

    ours = await conductor.comment_once(repo, number, "escalated:o/r#3", "needs a human")
    again = await conductor.comment_once(repo, number, "escalated:o/r#3", "needs a human")

    assert (ours.posted, again.posted, again.id) == (True, False, ours.id)
    comments = await github.read(f"/repos/{repo}/issues/{number}/comments")
    authors = [c["user"]["login"] for c in comments]
    assert authors == [comments[0]["user"]["login"], "rig-conductor[bot]"] and authors[0] != authors[1]
    assert await conductor.own_login() == "rig-conductor[bot]"  # asked of GitHub (`GET /app`): no setting here


async def test_the_bot_login_setting_is_used_as_the_author_of_our_comments(github, make_settings, repo):
    number = await github.open_issue(repo)
    async with GitHubClient(make_settings(github_conductor_login="someone-else[bot]"), Role.CONDUCTOR) as other:
        first = await other.comment_once(repo, number, "plan", "On it")
        again = await other.comment_once(repo, number, "plan", "On it")
    # Our real comments are by rig-conductor[bot], so a client told another login finds none of its own.
    assert (first.posted, again.posted) == (True, True)
