"""What the review rules read through the client (issue 12): a change at a SHA with the files GitHub gives no
patch for, each reviewer's author_association, and the checks branch protection requires."""

from __future__ import annotations

from rig_github import Role


async def test_compare_gives_the_change_at_a_sha_and_no_patch_for_a_binary_file(github, conductor, repo):
    first = await github.push(repo, "feature", {"a.py": "x = 1\n"})
    await github.call("POST", f"/_sandbox/repos/{repo}/commits", expect=201,
                      json={"branch": "feature", "files": {"logo.png": {"base64": "iVBORw0KGgoAAAA="}}})
    at_first = await conductor.compare(repo, "main", first)
    now = await conductor.compare(repo, "main", "feature")
    assert [(f.filename, bool(f.patch)) for f in at_first.files] == [("a.py", True)]
    assert sorted((f.filename, bool(f.patch)) for f in now.files) == [("a.py", True), ("logo.png", False)]
    assert (at_first.total_commits, now.total_commits, now.status) == (1, 2, "ahead")


async def test_reviews_carry_the_reviewers_association(github, conductor, repo):
    await github.call("POST", "/_sandbox/users", json={"login": "outsider", "collaborator": False}, expect=201)
    pat = (await github.call("POST", "/_sandbox/users/outsider/tokens", expect=201))["token"]
    head = await github.push(repo, "feature", {"f.txt": "f\n"})
    number = await github.open_pull(repo, "feature", by=Role.DEV)
    await github.call("POST", f"/repos/{repo}/pulls/{number}/reviews", token=pat, expect=200,
                      json={"event": "APPROVE", "commit_id": head})
    await github.call("POST", f"/repos/{repo}/pulls/{number}/reviews", token=await github.token(Role.REVIEW),
                      expect=200, json={"event": "APPROVE", "commit_id": head})
    assert [(r.author, r.author_association) for r in await conductor.list_reviews(repo, number)] == [
        ("outsider", "NONE"), ("rig-review[bot]", "COLLABORATOR")]


async def test_required_checks_come_from_branch_protection_even_without_the_administration_permission(
        github, conductor, repo):
    assert await conductor.required_checks(repo, "main") is None  # 404: not protected
    await github.call("PATCH", f"/_sandbox/repos/{repo}", json={"required_checks": ["ci", "e2e"]}, expect=200)
    assert await conductor.required_checks(repo, "main") == ("ci", "e2e")
    assert await conductor.required_checks(repo, "feature") is None
    # An App that may not read protection (403) still learns the checks from the branch itself.
    fault = await github.arm(kind="forbidden", method="GET", path=f"/repos/{repo}/branches/main/protection/**")
    assert await conductor.required_checks(repo, "main") == ("ci", "e2e")
    assert (await github.fault(fault["id"]))["fired"] == 1
