"""Whose approval merges, and which checks must report (issue 12), end to end: the sandbox with delivery chaos,
a real ingest process, the merger as its own process.

An outsider's approval at the head SHA records no approval and merges nothing (in both forms of the request);
review-e's does. A merge waits until every required check (branch protection's and the setting's) has reported
green: one quick check green before a slower required one has even started is not enough."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github_sandbox_support import outsider_review
from merger_flow_support import REPO, check, flow, open_pr
from system_support import KEYS

pytestmark = pytest.mark.slow


async def test_an_outsiders_approval_never_merges_and_every_required_check_must_report(
        tmp_path: Path, database_url, redis_url, key_prefix, schema_suffix, redis) -> None:
    async with flow(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                    schema_suffix=schema_suffix, redis=redis, private_key=KEYS[0]) as f, f.sandbox.roles() as roles:
        f.merger.env["RIG_MERGER_REQUIRED_CHECKS"] = json.dumps(["ci"])
        await f.merger.start()

        # An outsider approves the head; CI is green. No approval is recorded, nothing merges.
        _, pr, sha = await open_pr(f, roles, "outsider")
        await outsider_review(f.sandbox, REPO, pr, sha, "APPROVE")
        await check(f, sha, "success")
        passed = await f.seen("REVIEW_PASSED", pr_number=pr, reviewer="mallory")
        assert passed["data"]["author_association"] == "NONE" and passed["data"]["pr_author"] == "rig-dev[bot]"
        await f.seen("CHECKS_COMPLETED", sha=sha)
        early = await f.ask_merge({"repo": REPO, "prNumber": pr})  # waits for an approval that counts
        assert (early.status_code, early.json()["state"]) == (202, "waiting_for_approval")
        assert (await f.ask_merge({"repo": REPO, "pr_number": pr, "head_sha": sha})).status_code == 202
        waiting = await f.in_state(pr, "waiting", "awaiting approval")
        assert waiting["approved_sha"] is None
        assert await f.merge_calls(pr) == []
        # review-e's approval of the same head is the one that counts.
        await roles.review.create_review(REPO, pr, sha, "APPROVE", "Good.")
        await f.seen("MERGED", pr_number=pr)
        assert len(await f.merged_calls(pr)) == 1

        # Branch protection requires `e2e`, the setting `ci`: the quick `ci` alone, green, merges nothing.
        answer = await f.sandbox.control.patch(f"/_sandbox/repos/{REPO}", json={"required_checks": ["e2e"]})
        assert answer.status_code == 200, answer.text
        _, slow, slow_sha = await open_pr(f, roles, "slow")
        await roles.review.create_review(REPO, slow, slow_sha, "APPROVE", "Good.")
        await check(f, slow_sha, "success")
        await f.seen("CHECKS_COMPLETED", sha=slow_sha)
        assert (await f.ask_merge({"repo": REPO, "pr_number": slow, "head_sha": slow_sha})).status_code == 202
        held = await f.in_state(slow, "waiting", "checks pending")
        assert held["detail"] == "required checks not reported yet: e2e"
        await f.sandbox.post(f"/repos/{REPO}/check-runs", {"ref": slow_sha, "name": "e2e", "status": "in_progress"})
        await f.in_state(slow, "waiting", "checks pending")
        assert await f.merge_calls(slow) == []
        await f.sandbox.post(f"/repos/{REPO}/check-runs", {"ref": slow_sha, "name": "e2e", "conclusion": "success"})
        await f.seen("MERGED", pr_number=slow)
        assert len(await f.merged_calls(slow)) == 1
