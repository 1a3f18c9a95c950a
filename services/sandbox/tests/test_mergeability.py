"""`mergeable_state` as it is computed: unknown for a moment after a push (chaos), then clean; blocked by a
failing check or status and by a missing required review; behind when the repository requires it."""

from __future__ import annotations

import time
from typing import Any

from sandbox_support import create_repo, serving, wait_for

FILES = {"README.md": "# widgets\n"}


async def open_pull(sandbox, token: str, branch: str = "topic") -> dict[str, Any]:
    async with sandbox.client() as control:
        pushed = await control.post("/_sandbox/repos/acme/widgets/commits",
                                    json={"branch": branch, "files": {f"{branch}.txt": "x\n"}, "message": branch})
        assert pushed.status_code == 201, pushed.text
    async with sandbox.client(token) as client:
        opened = await client.post("/repos/acme/widgets/pulls", json={"title": branch, "head": branch, "base": "main"})
        assert opened.status_code == 201, opened.text
        return dict(opened.json())


async def state_of(client, number: int) -> tuple[bool | None, str]:
    pull = (await client.get(f"/repos/acme/widgets/pulls/{number}")).json()
    return pull["mergeable"], pull["mergeable_state"]


async def test_state_is_unknown_right_after_a_push_then_clean(tmp_path):
    async with serving(tmp_path / "data", sandbox_mergeable_unknown_max_s=1.0, sandbox_chaos_seed=7) as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        dev = await sandbox.token("dev")
        opened = await open_pull(sandbox, dev)
        started = time.monotonic()
        async with sandbox.client(dev) as client:
            first = await state_of(client, opened["number"])
            refetched = await client.get(f"/repos/acme/widgets/pulls/{opened['number']}")
            seen = [first]
            while seen[-1][1] == "unknown" and time.monotonic() - started < 3:
                seen.append(await state_of(client, opened["number"]))
            elapsed = time.monotonic() - started
            async with sandbox.client() as control:
                await control.post("/_sandbox/repos/acme/widgets/commits",
                                   json={"branch": "topic", "files": {"more.txt": "m\n"}})
            after_push = await state_of(client, opened["number"])
            again = await wait_for(lambda: _clean(client, opened["number"]), within_s=3)
        assert opened["mergeable"] is None and opened["mergeable_state"] == "unknown"
        assert first == (None, "unknown") and refetched.json()["mergeable"] is None
        assert seen[-1] == (True, "clean")
        assert 0.4 <= elapsed <= 2.5, "the unknown moment lasts between half the maximum and the maximum"
        assert after_push == (None, "unknown") and again


async def _clean(client, number: int) -> bool:
    return await state_of(client, number) == (True, "clean")


async def test_a_failing_check_blocks_until_a_passing_one_replaces_it(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        dev, conductor = await sandbox.token("dev"), await sandbox.token("conductor")
        pull = await open_pull(sandbox, dev)
        head, number = pull["head"]["sha"], pull["number"]
        async with sandbox.client(conductor) as client:
            assert await state_of(client, number) == (True, "clean")
            failing = await client.post("/repos/acme/widgets/check-runs", json={
                "name": "ci", "head_sha": head, "status": "completed", "conclusion": "failure"})
            assert failing.status_code == 201
            blocked = await state_of(client, number)
            refused = await client.put(f"/repos/acme/widgets/pulls/{number}/merge", json={"merge_method": "squash"})
            await client.post("/repos/acme/widgets/check-runs",
                              json={"name": "ci", "head_sha": head, "conclusion": "success"})
            after_check = await state_of(client, number)
            await client.post(f"/repos/acme/widgets/statuses/{head}", json={"state": "failure", "context": "lint"})
            by_status = await state_of(client, number)
            await client.post(f"/repos/acme/widgets/statuses/{head}", json={"state": "success", "context": "lint"})
            cleared = await state_of(client, number)
            runs = (await client.get(f"/repos/acme/widgets/commits/{head}/check-runs")).json()
            every_run = (await client.get(f"/repos/acme/widgets/commits/{head}/check-runs?filter=all")).json()
        assert blocked == (True, "blocked")
        assert refused.status_code == 405 and refused.json()["message"] == 'Required status check "ci" is failing.'
        assert after_check == (True, "clean") and by_status == (True, "blocked") and cleared == (True, "clean")
        assert [r["conclusion"] for r in runs["check_runs"]] == ["success"] and every_run["total_count"] == 2
        suite_events = sandbox.events.named("check_suite", "completed")
        assert [e["check_suite"]["conclusion"] for e in suite_events] == ["failure", "success"]
        assert [e["check_run"]["conclusion"] for e in sandbox.events.named("check_run", "completed")] == \
            ["failure", "success"]
        assert [e["state"] for e in sandbox.events.named("status")] == ["failure", "success"]


async def test_a_required_review_blocks_until_another_app_approves(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES, require_review=True)
        dev = await sandbox.token("dev")
        pull = await open_pull(sandbox, dev)
        async with sandbox.client(dev) as client:
            before = await state_of(client, pull["number"])
        async with sandbox.client(await sandbox.token("review")) as client:
            changes = await client.post(f"/repos/acme/widgets/pulls/{pull['number']}/reviews",
                                        json={"event": "REQUEST_CHANGES", "body": "please fix"})
            after_changes = await state_of(client, pull["number"])
            await client.post(f"/repos/acme/widgets/pulls/{pull['number']}/reviews", json={"event": "APPROVE"})
            after_approval = await state_of(client, pull["number"])
        assert before == (True, "blocked") and changes.status_code == 200
        assert after_changes == (True, "blocked") and after_approval == (True, "clean")
        submitted = sandbox.events.named("pull_request_review", "submitted")
        assert [e["review"]["state"] for e in submitted] == ["CHANGES_REQUESTED", "APPROVED"]


async def test_behind_only_when_the_repository_requires_up_to_date_heads(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        dev = await sandbox.token("dev")
        pull = await open_pull(sandbox, dev)
        async with sandbox.client() as control:
            await control.post("/_sandbox/repos/acme/widgets/commits",
                               json={"branch": "main", "files": {"other.txt": "o\n"}})
        async with sandbox.client(dev) as client:
            relaxed = await state_of(client, pull["number"])
            async with sandbox.client() as control:
                await control.patch("/_sandbox/repos/acme/widgets", json={"require_up_to_date": True})
            strict = await state_of(client, pull["number"])
            shown = (await client.get(f"/repos/acme/widgets/pulls/{pull['number']}")).json()
        assert relaxed == (True, "clean") and strict == (True, "behind")
        assert shown["base"]["sha"] != pull["base"]["sha"], "the base moved with the branch"
