"""The merger end to end (issue 7): the sandbox process with delivery chaos on, its webhooks through a real ingest
process onto `rig:events`, and the merger as its own process merging through the GitHub client library.

One system, one PR per behaviour: approved + green merges once (asked three times), `do-not-merge` holds a merge
until it is removed, a push after approval stops it (head moved), failing checks block it with the reason, and
the public runtime's form is refused without a recorded approval."""

from __future__ import annotations

from pathlib import Path

import pytest
from github_sandbox_support import settled
from merger_flow_support import REPO, check, flow, label, main_head, open_pr
from system_support import KEYS

pytestmark = pytest.mark.slow


async def test_merges_once_what_was_approved_and_green_and_holds_the_rest(
        tmp_path: Path, database_url, redis_url, key_prefix, schema_suffix, redis) -> None:
    async with flow(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                    schema_suffix=schema_suffix, redis=redis, private_key=KEYS[0]) as f, f.sandbox.roles() as roles:
        await f.merger.start()

        # Approved + green: asked three times, merged once with one squash commit; MERGED and ISSUE_DONE once.
        issue, pr, sha = await open_pr(f, roles, "green")
        await roles.review.create_review(REPO, pr, sha, "APPROVE", "Good.")
        await check(f, sha, "success")
        before = await main_head(roles)
        body = {"repo": REPO, "pr_number": pr, "head_sha": sha}
        answers = [await f.ask_merge(body) for _ in range(3)]
        assert [(a.status_code, a.json()["new"]) for a in answers] == [(202, True), (202, False), (202, False)]
        merged = await f.seen("MERGED", pr_number=pr)
        done = await f.seen("ISSUE_DONE", number=issue)
        assert (done["subject"], done["data"]["merge_sha"]) == (f"{REPO}#{issue}", merged["data"]["merge_sha"])
        after = await main_head(roles)
        assert after == merged["data"]["merge_sha"]
        assert await roles.conductor.run(lambda gh: [p.sha for p in gh.get_repo(REPO).get_commit(after).parents]) \
            == [before], "one squash commit on the base branch"

        # do-not-merge added before CI finishes: no merge until it is removed.
        _, held, held_sha = await open_pr(f, roles, "held")
        await roles.review.create_review(REPO, held, held_sha, "APPROVE", "Good.")
        await check(f, held_sha, None)
        await label(f, held, "do-not-merge")
        assert (await f.ask_merge({"repo": REPO, "pr_number": held, "head_sha": held_sha})).status_code == 202
        await f.in_state(held, "blocked", "label")
        await check(f, held_sha, "success")
        await f.seen("CHECKS_COMPLETED", sha=held_sha)
        await f.seen("MERGE_BLOCKED", pr_number=held, reason="label")
        assert await f.merge_calls(held) == []
        await label(f, held, "do-not-merge", remove=True)
        await f.seen("MERGED", pr_number=held)

        # A push after approval: no merge, MERGE_BLOCKED head moved (the merge waited for CI when it came).
        _, pushed, old_sha = await open_pr(f, roles, "pushed")
        await roles.review.create_review(REPO, pushed, old_sha, "APPROVE", "Good.")
        await check(f, old_sha, None)
        assert (await f.ask_merge({"repo": REPO, "pr_number": pushed, "head_sha": old_sha})).status_code == 202
        await f.in_state(pushed, "waiting", "checks pending")
        await f.sandbox.post(f"/repos/{REPO}/commits", {"branch": "pushed", "files": {"more.txt": "more\n"}})
        moved = await f.seen("MERGE_BLOCKED", pr_number=pushed, reason="head moved")
        assert moved["data"]["head_sha"] == old_sha
        await f.in_state(pushed, "stopped", "head moved")

        # Failing checks: no merge, MERGE_BLOCKED with the reason; asked in the runtime's form after the approval.
        _, red, red_sha = await open_pr(f, roles, "red")
        early = await f.ask_merge({"repo": REPO, "prNumber": red})  # before the approval: waits for it
        assert (early.status_code, early.json()["state"]) == (202, "waiting_for_approval")
        await roles.review.create_review(REPO, red, red_sha, "APPROVE", "Good.")
        await check(f, red_sha, "failure")
        await f.seen("REVIEW_PASSED", pr_number=red)
        accepted = await f.ask_merge({"repo": REPO, "prNumber": red})
        assert (accepted.status_code, accepted.json()["head_sha"]) == (202, red_sha)
        failed = await f.seen("MERGE_BLOCKED", pr_number=red, reason="checks failed")
        assert failed["data"]["detail"] == "ci: failure"

        # Once every delivery has had its attempt: each fact and decision exactly once.
        await settled(f.sandbox, roles.conductor, within_s=60)
        await f.seen("ISSUE_DONE", pr_number=held)
        for number in (pr, held):
            assert len(await f.merged_calls(number)) == 1
            assert len(await f.of("MERGED", pr_number=number)) == 1
            assert len(await f.of("ISSUE_DONE", pr_number=number)) == 1
            assert len(await f.of("MERGE_REQUESTED", pr_number=number)) == 1
        for number in (pushed, red):
            assert await f.merge_calls(number) == []
            assert await f.of("MERGED", pr_number=number) == []
        assert [e["data"]["reason"] for e in await f.of("MERGE_BLOCKED")] == ["label", "head moved", "checks failed"]
