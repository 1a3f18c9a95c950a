"""The whole path of a change through real git: clone with an installation token, push a branch, open a pull
request that closes an issue, squash-merge it; and GitHub's refusals on the way (409, 405, 422)."""

from __future__ import annotations

from sandbox_support import clone_url, create_repo, git, serving

FILES = {"README.md": "# widgets\n", "src/app.js": "module.exports = 1;\n"}


async def test_clone_push_pull_request_and_squash_merge_closes_the_issue(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        dev, conductor = await sandbox.token("dev"), await sandbox.token("conductor")
        async with sandbox.client(conductor) as client:
            issue = (await client.post("/repos/acme/widgets/issues", json={"title": "Add a feature"})).json()
        assert issue["number"] == 1

        work = tmp_path / "work"
        await git(tmp_path, "clone", "--quiet", clone_url(sandbox, "acme/widgets", dev), str(work))
        assert (work / "README.md").read_text() == "# widgets\n"
        await git(work, "checkout", "-q", "-b", "feature")
        (work / "src" / "feature.js").write_text("module.exports = 'feature';\n")
        await git(work, "add", ".")
        await git(work, "commit", "-q", "-m", "Add feature")
        (work / "README.md").write_text("# widgets\n\nNow with a feature.\n")
        await git(work, "commit", "-q", "-am", "Document the feature")
        await git(work, "push", "-q", "origin", "feature")
        head = await git(work, "rev-parse", "HEAD")
        base_before = await git(work, "rev-parse", "origin/main")

        async with sandbox.client(dev) as client:
            opened = await client.post("/repos/acme/widgets/pulls", json={
                "title": "Add a feature", "head": "feature", "base": "main", "body": "Adds it.\n\nCloses #1"})
            assert opened.status_code == 201, opened.text
            pull = opened.json()
            assert (pull["number"], pull["head"]["sha"], pull["commits"], pull["changed_files"]) == (2, head, 2, 2)
            assert pull["user"]["login"] == "rig-dev[bot]" and pull["user"]["type"] == "Bot"
            own = await client.post("/repos/acme/widgets/pulls/2/reviews", json={"event": "APPROVE"})
            assert own.status_code == 422
            assert own.json()["errors"] == ["Can not approve your own pull request"]
            files = (await client.get("/repos/acme/widgets/pulls/2/files")).json()
            assert {f["filename"]: f["status"] for f in files} == {"README.md": "modified", "src/feature.js": "added"}

        async with sandbox.client(await sandbox.token("review")) as client:
            approved = await client.post("/repos/acme/widgets/pulls/2/reviews",
                                         json={"event": "APPROVE", "body": "Looks good"})
            assert approved.status_code == 200 and approved.json()["state"] == "APPROVED"

        async with sandbox.client(conductor) as client:
            stale = await client.put("/repos/acme/widgets/pulls/2/merge",
                                     json={"sha": base_before, "merge_method": "squash"})
            assert stale.status_code == 409
            assert stale.json()["message"] == "Head branch was modified. Review and try the merge again."
            merged = await client.put("/repos/acme/widgets/pulls/2/merge",
                                      json={"sha": head, "merge_method": "squash"})
            assert merged.status_code == 200, merged.text
            assert merged.json()["merged"] is True
            issue_after = (await client.get("/repos/acme/widgets/issues/1")).json()
            pull_after = (await client.get("/repos/acme/widgets/pulls/2")).json()
            again = await client.put("/repos/acme/widgets/pulls/2/merge", json={"merge_method": "squash"})
            is_merged = await client.get("/repos/acme/widgets/pulls/2/merge")

        assert (issue_after["state"], issue_after["state_reason"]) == ("closed", "completed")
        assert pull_after["merged"] is True and pull_after["merge_commit_sha"] == merged.json()["sha"]
        assert again.status_code == 405 and is_merged.status_code == 204

        await git(work, "fetch", "-q", "origin")
        new_commits = (await git(work, "rev-list", f"{base_before}..origin/main")).split()
        assert new_commits == [merged.json()["sha"]], "exactly one new commit on the base"
        parents = (await git(work, "rev-list", "--parents", "-n", "1", "origin/main")).split()
        assert parents[1:] == [base_before], "a squash commit has the old base as its only parent"
        assert await git(work, "diff", "origin/main", head) == "", "it holds exactly the pull request's changes"
        message = await git(work, "log", "-1", "--format=%s", "origin/main")
        assert message == "Add a feature (#2)"

        emitted = [(name, payload.get("action")) for name, payload in sandbox.events.events]
        assert ("pull_request", "opened") in emitted
        closed = sandbox.events.named("pull_request", "closed")
        assert closed and closed[-1]["pull_request"]["merged"] is True
        issue_closed = sandbox.events.named("issues", "closed")
        assert issue_closed[-1]["issue"]["number"] == 1
        assert issue_closed[-1]["issue"]["state_reason"] == "completed"
        pushes = [p for p in sandbox.events.named("push") if p["ref"] == "refs/heads/feature"]
        assert pushes and pushes[0]["created"] is True and len(pushes[0]["commits"]) == 2
        assert emitted.index(("pull_request", "closed")) < emitted.index(("issues", "closed"))


async def test_a_conflicting_pull_request_is_dirty_and_refused_with_405(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        dev = await sandbox.token("dev")
        async with sandbox.client() as control:
            for branch, text in (("left", "left\n"), ("main", "main moved\n")):
                answer = await control.post("/_sandbox/repos/acme/widgets/commits", json={
                    "branch": branch, "files": {"README.md": text}, "message": f"change on {branch}"})
                assert answer.status_code == 201, answer.text
        async with sandbox.client(dev) as client:
            opened = await client.post("/repos/acme/widgets/pulls",
                                       json={"title": "Left", "head": "acme:left", "base": "main"})
            assert opened.status_code == 201, opened.text
            pull = (await client.get("/repos/acme/widgets/pulls/1")).json()
            refused = await client.put("/repos/acme/widgets/pulls/1/merge", json={"merge_method": "squash"})
            duplicate = await client.post("/repos/acme/widgets/pulls",
                                          json={"title": "Again", "head": "left", "base": "main"})
        assert (pull["mergeable"], pull["mergeable_state"]) == (False, "dirty")
        assert refused.status_code == 405 and refused.json()["message"] == "Pull Request is not mergeable"
        assert duplicate.status_code == 422
        assert duplicate.json()["errors"][0]["message"] == "A pull request already exists for acme:left."


async def test_pushing_to_a_pull_requests_head_synchronizes_it(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        dev = await sandbox.token("dev")
        work = tmp_path / "work"
        await git(tmp_path, "clone", "--quiet", clone_url(sandbox, "acme/widgets", dev), str(work))
        await git(work, "checkout", "-q", "-b", "topic")
        (work / "a.txt").write_text("a\n")
        await git(work, "add", ".")
        await git(work, "commit", "-q", "-m", "a")
        await git(work, "push", "-q", "origin", "topic")
        first = await git(work, "rev-parse", "HEAD")
        async with sandbox.client(dev) as client:
            assert (await client.post("/repos/acme/widgets/pulls",
                                      json={"title": "t", "head": "topic", "base": "main"})).status_code == 201
            (work / "a.txt").write_text("a2\n")
            await git(work, "commit", "-q", "-am", "a2")
            await git(work, "push", "-q", "origin", "topic")
            second = await git(work, "rev-parse", "HEAD")
            pull = (await client.get("/repos/acme/widgets/pulls/1")).json()
            commits = (await client.get("/repos/acme/widgets/pulls/1/commits")).json()
        sync = sandbox.events.named("pull_request", "synchronize")
        assert [(e["before"], e["after"]) for e in sync] == [(first, second)]
        assert pull["head"]["sha"] == second and [c["sha"] for c in commits] == [first, second]


async def test_git_refuses_callers_without_a_valid_token(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        anonymous = await git(tmp_path, "clone", "--quiet", f"{sandbox.url}/acme/widgets.git", "a", check=False)
        wrong = await git(tmp_path, "clone", "--quiet", clone_url(sandbox, "acme/widgets", "ghs_wrong"), "b",
                          check=False)
        assert not (tmp_path / "a" / "README.md").exists() and not (tmp_path / "b" / "README.md").exists()
        assert anonymous == wrong == ""
