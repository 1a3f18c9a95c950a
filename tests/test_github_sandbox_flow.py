"""The whole path of a change against the sandbox process, as the agents and the conductor take it, with
delivery chaos on: clone with an installation token, push a branch, open a pull request that closes an issue,
a failing then a passing check, squash-merge at the head SHA, and the signed webhooks of each step."""

from __future__ import annotations

import pytest
from github_sandbox_support import (
    CHAOS_SEED,
    Consumer,
    Hook,
    all_deliveries,
    git,
    receiving,
    sandbox_process,
    settled,
)

from rig_github import GitHubClient, NotMergeableError
from rig_testing.waiting import eventually

REPO = "acme/widgets"
FILES = {"README.md": "# widgets\n", "src/app.js": "module.exports = 1;\n"}


async def report_check(client: GitHubClient, sha: str, conclusion: str) -> str:
    """Report the `ci` check run on `sha` as the conductor App would, through PyGithub."""
    made: str = await client.run(lambda gh: gh.get_repo(REPO).create_check_run(
        "ci", sha, status="completed", conclusion=conclusion,
        output={"title": f"ci: {conclusion}", "summary": "tests ran"}).conclusion)
    return made


def is_hook(event: str, action: str, **expected: object):
    """A predicate on received hooks: this event and action, with these top-level payload values."""
    def wanted(hook: Hook) -> bool:
        return (hook.event, hook.action) == (event, action) and all(
            hook.payload.get(key) == value for key, value in expected.items())
    return wanted


async def test_clone_push_open_check_and_squash_merge_close_the_issue_with_every_webhook(tmp_path) -> None:
    async with (receiving() as receiver,
                sandbox_process(tmp_path / "data", receiver, RIG_SANDBOX_CHAOS_SEED=str(CHAOS_SEED),
                                RIG_SANDBOX_MERGEABLE_UNKNOWN_MAX_S="1") as sandbox,
                sandbox.roles() as roles):
        await sandbox.post("/repos", {"owner": "acme", "name": "widgets", "files": FILES})
        consumer = Consumer(receiver, roles.conductor)
        issue = await roles.conductor.run(lambda gh: gh.get_repo(REPO).create_issue(title="Add a feature").number)
        assert issue == 1

        work = tmp_path / "work"
        await git(tmp_path, "clone", "--quiet", sandbox.clone_url(REPO, await roles.dev.installation_token()),
                  str(work))
        base_before = await git(work, "rev-parse", "HEAD")
        await git(work, "checkout", "-q", "-b", "feature")
        (work / "src" / "feature.js").write_text("module.exports = 'feature';\n")
        await git(work, "add", ".")
        await git(work, "commit", "-q", "-m", "Add feature")
        (work / "README.md").write_text("# widgets\n\nNow with a feature.\n")
        await git(work, "commit", "-q", "-am", "Document the feature")
        await git(work, "push", "-q", "origin", "feature")
        head = await git(work, "rev-parse", "HEAD")

        pull = await roles.dev.open_pull(REPO, head="feature", title="Add a feature", body="Adds it.\n\nCloses #1")
        assert (pull.head_sha, pull.base_ref, pull.author) == (head, "main", sandbox.apps["dev"]["bot_login"])
        opened = await consumer.receive(is_hook("pull_request", "opened", number=pull.number),
                                        "the signed pull_request.opened webhook")
        assert opened.payload["pull_request"]["head"]["sha"] == head
        assert "Closes #1" in opened.payload["pull_request"]["body"]
        assert opened.payload["sender"]["login"] == sandbox.apps["dev"]["bot_login"]

        assert await report_check(roles.conductor, head, "failure") == "failure"
        assert (await roles.conductor.get_pull(REPO, pull.number, settle=10)).mergeable_state == "blocked"
        with pytest.raises(NotMergeableError, match="ci"):
            await roles.conductor.merge(REPO, pull.number, head)
        assert await report_check(roles.conductor, head, "success") == "success"
        assert (await roles.conductor.get_pull(REPO, pull.number, settle=10)).mergeable_state == "clean"
        merged = await roles.conductor.merge(REPO, pull.number, head)
        assert merged.merged and not merged.already_merged

        await git(work, "fetch", "-q", "origin")
        assert (await git(work, "rev-list", f"{base_before}..origin/main")).split() == [merged.merge_commit_sha]
        assert (await git(work, "rev-list", "--parents", "-n", "1", "origin/main")).split()[1:] == [base_before]
        assert await git(work, "diff", "origin/main", head) == "", "the new commit holds the PR's changes"
        changed = await git(work, "diff", "--name-status", base_before, "origin/main")
        assert sorted(changed.splitlines()) == ["A\tsrc/feature.js", "M\tREADME.md"]

        issue_now = await roles.conductor.run(lambda gh: gh.get_repo(REPO).get_issue(1).raw_data)
        assert (issue_now["state"], issue_now["state_reason"]) == ("closed", "completed")
        closed = await consumer.receive(is_hook("pull_request", "closed", number=pull.number),
                                        "pull_request.closed")
        assert closed.payload["pull_request"]["merged"] is True
        assert closed.payload["pull_request"]["merge_commit_sha"] == merged.merge_commit_sha
        issue_closed = await consumer.receive(lambda h: is_hook("issues", "closed")(h)
                                              and h.payload["issue"]["number"] == 1, "issues.closed")
        assert issue_closed.payload["issue"]["state_reason"] == "completed"

        # Nothing is lost for a consumer that recovers: every delivery chaos dropped is found failed and
        # redelivered, and in the end every event emitted has arrived, signed, at least once.
        deliveries = await settled(sandbox, roles.conductor)

        async def everything_arrived() -> bool:
            await consumer.recover()
            return {d.guid for d in deliveries} <= receiver.guids()

        await eventually(everything_arrived, what="every emitted delivery received")
        dropped = {d.guid for d in deliveries if d.status != "OK"}
        assert dropped, f"seed {CHAOS_SEED} drops deliveries in this flow, and they must be recovered"
        assert dropped == set(consumer.redelivered)
        assert {d.guid for d in await all_deliveries(roles.conductor) if d.redelivery and d.status == "OK"} == dropped
        assert receiver.forged == 0
