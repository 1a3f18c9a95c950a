"""The merger app (real Postgres, Redis and the sandbox process): requests, the policy against GitHub, the merge.

Events that ingest would write are appended to `rig:events` here directly; tests/test_merger_flow.py runs the
same paths with the real ingest fed by the sandbox's webhooks.
"""

from __future__ import annotations

from ipaddress import ip_network

import httpx
import redis.asyncio as aioredis
from merger_support import REPO, World, of_type
from prometheus_client import REGISTRY

from rig_contracts import Envelope, Names
from rig_contracts.catalogue import MergedEvent, PrLabelsChangedEvent, PrUpdatedEvent, ReviewPassedEvent
from rig_contracts.entries import EVENT_FIELD
from rig_merger.app import create_app
from rig_testing.waiting import eventually


async def publish(redis: aioredis.Redis, key_prefix: str, event: Envelope) -> None:
    """Append an event to `rig:events` as a producer's relay would."""
    await redis.xadd(Names(key_prefix).events, {EVENT_FIELD: event.to_json()})


async def state_of(merger: httpx.AsyncClient, headers: dict[str, str], number: int) -> dict[str, object]:
    answer = await merger.get(f"/api/merge/{REPO}/{number}", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def reaches(merger: httpx.AsyncClient, headers: dict[str, str], number: int, state: str,
                  reason: str | None = None) -> dict[str, object]:
    async def there() -> dict[str, object] | None:
        found = await state_of(merger, headers, number)
        return found if found["state"] == state and reason in (None, found["reason"]) else None
    return dict(await eventually(there, what=f"request of #{number} {state} {reason or ''}"))


async def ready_pull(people: World, branch: str = "feature", closes: int | None = None) -> tuple[int, str]:
    """A PR approved by review-e with green CI."""
    number, sha = await people.open_pull(branch, {f"src/{branch}.py": "DONE = True\n"}, closes)
    await people.approve(number, sha)
    await people.check(sha, "success")
    return number, sha


async def test_approved_and_green_is_squash_merged_once_however_often_it_is_asked(
        merger, people, requester, redis, key_prefix) -> None:
    number, sha = await ready_pull(people)
    before = await people.main_head()
    answers = [await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha},
                                 headers=requester) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.json()["new"] for a in answers] == [True, False, False]
    done = await reaches(merger, requester, number, "merged")
    assert done["reason"] == "merged" and done["merge_sha"]
    assert len(await people.merge_calls(number)) == 1
    pull = await people.conductor.get_pull(REPO, number)
    assert pull.merged and pull.merge_commit_sha == done["merge_sha"] == await people.main_head()
    assert await people.parents(str(done["merge_sha"])) == [before], "one squash commit on the base branch"
    requested = await eventually(lambda: of_type(redis, Names(key_prefix), "MERGE_REQUESTED"), what="the event")
    assert len(requested) == 1
    assert (requested[0].data.head_sha, requested[0].data.requested_by, requested[0].source) == (
        sha, "agent:review-e", "merger")


async def test_merged_event_finishes_the_request_and_the_issue_once(merger, people, requester, redis,
                                                                     key_prefix) -> None:
    issue = await people.issue()
    number, sha = await ready_pull(people, closes=issue)
    await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha}, headers=requester)
    merged = await reaches(merger, requester, number, "merged")
    subject = f"{REPO}#{issue}"
    for _ in range(2):  # the same fact twice (two webhook deliveries, two ingest events)
        await publish(redis, key_prefix, MergedEvent.of(
            source="ingest", subject=subject, key=f"merged:{REPO}#{number}",
            data={"repo": REPO, "pr_number": number, "sha": sha, "merge_sha": merged["merge_sha"]}))
    await reaches(merger, requester, number, "done")
    names = Names(key_prefix)
    done = await eventually(lambda: of_type(redis, names, "ISSUE_DONE"), what="ISSUE_DONE")
    assert [(e.subject, e.data.number, e.data.pr_number, e.data.merge_sha) for e in done] == [
        (subject, issue, number, merged["merge_sha"])]
    assert (await state_of(merger, requester, number))["subject"] == subject


async def test_the_runtime_form_takes_the_recorded_approval_and_waits_without_one(
        merger, people, requester, redis, key_prefix) -> None:
    number, sha = await ready_pull(people)
    early = await merger.post("/api/merge", json={"repo": REPO, "prNumber": number}, headers=requester)
    assert (early.status_code, early.json()["state"]) == (202, "waiting_for_approval")

    await publish(redis, key_prefix, ReviewPassedEvent.of(
        source="ingest", subject=f"{REPO}#{number}", key=f"review:{REPO}#{number}:1",
        data={"repo": REPO, "pr_number": number, "review_id": 1, "commit_id": sha, "reviewer": "rig-review[bot]"}))

    async def accepted() -> httpx.Response | None:
        answer = await merger.post("/api/merge", json={"repo": REPO, "prNumber": number}, headers=requester)
        return answer if answer.status_code == 202 and answer.json().get("head_sha") else None
    answer = await eventually(accepted, what="the approval to be recorded")
    assert answer.json()["head_sha"] == sha
    await reaches(merger, requester, number, "merged")


async def test_the_runtime_form_is_refused_when_the_head_moved_since_the_approval(
        merger, people, requester, redis, key_prefix) -> None:
    number, sha = await people.open_pull("moved", {"src/moved.py": "A = 1\n"})
    newer = "f" * 40
    await publish(redis, key_prefix, ReviewPassedEvent.of(
        source="ingest", subject=f"{REPO}#{number}", key=f"review:{REPO}#{number}:7",
        data={"repo": REPO, "pr_number": number, "review_id": 7, "commit_id": sha, "reviewer": "rig-review[bot]"}))
    await publish(redis, key_prefix, PrUpdatedEvent.of(
        source="ingest", subject=f"{REPO}#{number}", key=f"pr-head:{REPO}#{number}:{newer}",
        data={"repo": REPO, "pr_number": number, "head_sha": newer, "before_sha": sha}))

    async def refused() -> httpx.Response | None:
        answer = await merger.post("/api/merge", json={"repo": REPO, "prNumber": number}, headers=requester)
        return answer if answer.status_code == 409 else None
    answer = await eventually(refused, what="the push to be recorded")
    assert "moved since the approval" in answer.json()["detail"]


async def test_a_blocking_label_holds_the_merge_until_it_is_removed(merger, people, requester, redis,
                                                                     key_prefix) -> None:
    number, sha = await people.open_pull("held", {"src/held.py": "HELD = 1\n"})
    await people.approve(number, sha)
    await people.check(sha, None)  # CI still running
    await people.label(number, "do-not-merge")
    await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha}, headers=requester)
    held = await reaches(merger, requester, number, "blocked", "label")
    assert held["detail"] == "do-not-merge"
    await people.check(sha, "success")
    await publish(redis, key_prefix, _checks(number, sha))
    await eventually(lambda: _evaluated_again(people, number), what="a re-check after CI")
    assert (await state_of(merger, requester, number))["state"] == "blocked"
    assert await people.merge_calls(number) == []

    await people.unlabel(number, "do-not-merge")
    await publish(redis, key_prefix, PrLabelsChangedEvent.of(
        source="ingest", subject=f"{REPO}#{number}", key=f"pr-labels:{REPO}#{number}:unlabeled",
        data={"repo": REPO, "pr_number": number, "labels": []}))
    await reaches(merger, requester, number, "merged")
    blocked = await of_type(redis, Names(key_prefix), "MERGE_BLOCKED")
    assert [(e.data.reason, e.data.detail) for e in blocked] == [("label", "do-not-merge")]


async def test_failing_checks_block_and_a_push_after_approval_stops_the_request(merger, people, requester, redis,
                                                                                 key_prefix) -> None:
    number, sha = await people.open_pull("red", {"src/red.py": "RED = 1\n"})
    await people.approve(number, sha)
    await people.check(sha, "failure")
    await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha}, headers=requester)
    failed = await reaches(merger, requester, number, "blocked", "checks failed")
    assert failed["detail"] == "ci: failure"

    newer = await people.push("red", {"src/red.py": "RED = 2\n"})
    await publish(redis, key_prefix, PrUpdatedEvent.of(
        source="ingest", subject=f"{REPO}#{number}", key=f"pr-head:{REPO}#{number}:{newer}",
        data={"repo": REPO, "pr_number": number, "head_sha": newer, "before_sha": sha}))
    moved = await reaches(merger, requester, number, "stopped", "head moved")
    assert newer in str(moved["detail"])
    assert await people.merge_calls(number) == []
    blocked = await of_type(redis, Names(key_prefix), "MERGE_BLOCKED")
    assert [(e.data.reason, e.data.head_sha) for e in blocked] == [("checks failed", sha), ("head moved", sha)]


async def test_a_conflict_blocks_with_one_comment_on_the_pr(merger, people, requester, redis, key_prefix) -> None:
    number, sha = await people.open_pull("clash", {"README.md": "# widgets, the feature way\n"})
    await people.approve(number, sha)
    await people.check(sha, "success")
    await people.push("main", {"README.md": "# widgets, the main way\n"})
    await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha}, headers=requester)
    await reaches(merger, requester, number, "blocked", "conflict")
    await publish(redis, key_prefix, _checks(number, sha))  # evaluated again: still one comment
    await eventually(lambda: _evaluated_again(people, number), what="a second evaluation")
    comments = await people.conductor.run(
        lambda gh: [c.body for c in gh.get_repo(REPO).get_issue(number).get_comments()])
    assert len(comments) == 1 and "conflicts with its base branch" in comments[0]
    assert [e.data.reason for e in await of_type(redis, Names(key_prefix), "MERGE_BLOCKED")] == ["conflict"]


async def test_a_branch_behind_its_protected_base_is_blocked_as_behind(merger, people, requester, redis,
                                                                        key_prefix) -> None:
    await people.ask("PATCH", f"/repos/{REPO}", {"require_up_to_date": True})
    number, sha = await ready_pull(people, "late")
    await people.push("main", {"NEWS.md": "Something else landed first.\n"})
    await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha}, headers=requester)
    await reaches(merger, requester, number, "blocked", "behind")
    assert await people.merge_calls(number) == []
    blocked = await of_type(redis, Names(key_prefix), "MERGE_BLOCKED")
    assert [(e.data.reason, e.data.head_sha) for e in blocked] == [("behind", sha)]


async def test_github_failures_are_retried_and_counted(merger, people, requester) -> None:
    number, sha = await ready_pull(people, "flaky")
    retries = _retries()
    armed = await people.ask("POST", "/faults", {"kind": "server_error", "method": "GET", "times": 2,
                                                "path": f"/repos/{REPO}/pulls/{number}"})
    await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha}, headers=requester)
    await reaches(merger, requester, number, "merged")
    assert (await people.ask("GET", f"/faults/{armed['id']}"))["fired"] == 2
    assert _retries() >= retries + 2
    assert len(await people.merge_calls(number)) == 1


async def test_a_rate_limited_merge_call_is_waited_out_and_counted(merger, people, requester) -> None:
    number, sha = await ready_pull(people, "limited")
    retries = _retries()
    armed = await people.ask("POST", "/faults", {"kind": "secondary_rate_limit", "method": "PUT", "times": 1,
                                                "retry_after_s": 1, "path": f"/repos/{REPO}/pulls/{number}/merge"})
    await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha}, headers=requester)
    await reaches(merger, requester, number, "merged")
    assert (await people.ask("GET", f"/faults/{armed['id']}"))["fired"] == 1
    assert _retries() >= retries + 1
    calls = await people.merge_calls(number)
    assert [c["status"] for c in calls] == [403, 200], "refused once by the limit, then merged by the retry"


async def test_bad_requests_are_clear_4xx(merger, requester) -> None:
    assert (await merger.post("/api/merge", json={"repo": REPO, "pr_number": 1})).status_code == 401
    for body in ({"repo": "no-slash", "pr_number": 1}, {"repo": REPO, "pr_number": 0},
                 {"repo": REPO, "pr_number": 1, "head_sha": "short"}, {"repo": REPO}, {"repo": REPO, "pr": 1}):
        answer = await merger.post("/api/merge", json=body, headers=requester)
        assert answer.status_code == 422, body
    assert (await merger.get(f"/api/merge/{REPO}/99", headers=requester)).status_code == 404


def _checks(number: int, sha: str) -> Envelope:
    from rig_contracts.catalogue import ChecksCompletedEvent

    return ChecksCompletedEvent.of(
        source="ingest", subject=f"{REPO}#{number}", key=f"checks:{REPO}@{sha}:run:ci",
        data={"repo": REPO, "sha": sha, "conclusion": "success", "pr_number": number,
              "checks": [{"name": "ci", "conclusion": "success"}]})


async def _evaluated_again(people: World, number: int) -> bool:
    """The merger read the PR at least twice (its evaluation after the request, and one after an event)."""
    reads = await people.ask("GET", f"/requests?method=GET&path=/repos/{REPO}/pulls/{number}&limit=1000")
    return len(reads) >= 2


def _retries() -> float:
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "rig_github_retries":
            total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return total


async def test_the_runtime_without_a_token_is_heard_only_from_a_trusted_network(settings, people, redis) -> None:
    number, _sha = await ready_pull(people)
    # The runtime's own network (loopback is refused outside development: docs/security.md).
    trusting = settings.model_copy(update={"trusted_networks": [ip_network("10.9.0.0/16")]})
    for trusted, expected in ((trusting, 202), (settings, 401)):
        app = create_app(trusted, people.github)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=("10.9.0.5", 5000)), base_url="http://merger") as http:
            answer = await http.post("/api/merge", json={"repo": REPO, "prNumber": number})  # no Authorization
        assert answer.status_code == expected, answer.text  # trusted: heard: waits for the approval
