"""The merger killed at each of its fault points and started again still merges once (issue 7).

Sandbox process with delivery chaos on, a real ingest, the merger as its own process: for each fault point a new
work item is approved and green, the merger is started with that point armed, exits there (status 137), is
started again without it, and the PR ends merged once, with MERGE_REQUESTED, MERGED and ISSUE_DONE once each."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from github_sandbox_support import settled
from merger_flow_support import REPO, check, flow, open_pr
from system_support import KEYS

from rig_service.faults import FAULT_EXIT_STATUS

pytestmark = pytest.mark.slow


async def test_a_merger_killed_at_each_fault_point_and_restarted_merges_once(
        tmp_path: Path, database_url, redis_url, key_prefix, schema_suffix, redis) -> None:
    async with flow(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                    schema_suffix=schema_suffix, redis=redis, private_key=KEYS[0]) as f, f.sandbox.roles() as roles:
        items = []
        for fault in ("merger.after_record", "merger.after_merge_call", "consumer.before_ack"):
            issue, pr, sha = await open_pr(f, roles, fault.replace(".", "-"))
            await roles.review.create_review(REPO, pr, sha, "APPROVE", "Good.")
            await check(f, sha, "success")
            await f.seen("CHECKS_COMPLETED", sha=sha)
            body = {"repo": REPO, "pr_number": pr, "head_sha": sha}

            await f.merger.start(fault)
            if fault == "merger.after_record":
                with pytest.raises(httpx.HTTPError):  # recorded and committed, but it died before answering
                    await f.ask_merge(body)
            elif fault == "merger.after_merge_call":
                assert (await f.ask_merge(body)).status_code == 202
            # consumer.before_ack: the events it missed while stopped are its first batch; it dies before XACK.
            assert await f.merger.exit_status() == FAULT_EXIT_STATUS, f"{fault} was reached"

            await f.merger.start()
            again = await f.ask_merge(body)
            assert again.status_code == 202
            assert again.json()["new"] is (fault == "consumer.before_ack")
            await f.seen("MERGED", pr_number=pr)
            await f.seen("ISSUE_DONE", number=issue)
            await f.in_state(pr, "done")
            await f.merger.stop()
            items.append((issue, pr))

        await f.merger.start()
        await settled(f.sandbox, roles.conductor, within_s=60)
        for issue, pr in items:
            assert len(await f.merged_calls(pr)) == 1, f"#{pr} merged by one call"
            assert len(await f.of("MERGE_REQUESTED", pr_number=pr)) == 1
            assert len(await f.of("MERGED", pr_number=pr)) == 1
            assert len(await f.of("ISSUE_DONE", number=issue)) == 1
