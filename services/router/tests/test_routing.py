"""The router against real Postgres, Redis and the sandbox: approvals routed once, configs read and explained."""

from collections.abc import Awaitable, Callable
from typing import Any

from router_support import (
    SHA_A,
    Issue,
    again,
    comments,
    commit,
    entries,
    events_of,
    history,
    make_repo,
    open_issue,
    publish,
)

from rig_contracts import event_from_json
from rig_router.emit import FEEDBACK_MARK
from rig_testing.waiting import eventually


async def test_an_approved_python_issue_is_assigned_and_signalled_exactly_once(router, sandbox, run_id, settings):
    repo = make_repo(sandbox, f"py-{run_id}", {".rig-agent.yaml": "stack: python\ntestCommand: pytest\n"
                                                                     "tools: [ruff, uv]\n"})
    issue = Issue(repo, open_issue(sandbox, repo))
    approval = issue.approved(body="The cart forgets items.", labels=("agent-ready", "priority:high"))
    names = router.names
    await publish(router.redis, names, approval)
    stream, signal = names.assignments("dev-e-python"), names.signal("dev-e-python")
    await eventually(lambda: events_of(router.redis, names, "ISSUE_ASSIGNED"), what="ISSUE_ASSIGNED")

    await publish(router.redis, names, approval, again(approval))  # redelivered, and the same fact once more
    # The approval, the router's own ISSUE_ASSIGNED coming back, the same fact again.
    await eventually(lambda: _outcomes(settings, router, issue, ["applied", "applied", "duplicate"]),
                     what="the duplicate")

    [entry] = await entries(router.redis, stream)
    assert await router.redis.llen(signal) == 1
    [assigned] = await events_of(router.redis, names, "ISSUE_ASSIGNED")
    assert (assigned.data.agent, assigned.data.stack, assigned.data.attempt) == ("dev-e-python", "python", 1)
    assert assigned.causation_id == approval.id and assigned.source == "router"
    carried = event_from_json(entry["event"])
    assert carried.id == assigned.data.assignment_id == entry["assignmentId"]
    assert carried.type == "ISSUE_ASSIGNED" and carried.data == assigned.data
    assert {k: entry[k] for k in ("repo", "issueNumber", "title", "priority", "stack", "testCommand", "tools",
                                  "body")} == {"repo": repo, "issueNumber": str(issue.number), "title": "Fix the cart",
                                               "priority": "high", "stack": "python", "testCommand": "pytest",
                                               "tools": "ruff,uv", "body": "The cart forgets items."}

    item = (await router.http.get(f"/api/work-items/{repo}/{issue.number}", headers=router.token())).json()
    assert item["state"] == "ASSIGNED" and item["agent"] == "dev-e-python"
    assert [(h["type"], h["outcome"]) for h in item["history"]] == [
        ("ISSUE_APPROVED", "applied"), ("ISSUE_ASSIGNED", "applied"), ("ISSUE_APPROVED", "duplicate")]
    queue = (await router.http.get("/api/queue", headers=router.token())).json()["agents"]
    assert queue["dev-e-python"]["depth"] == 1 and queue["dev-e-python"]["oldest_age_s"] >= 0
    metrics = (await router.http.get("/metrics")).text
    assert 'rig_router_duplicates_total{type="ISSUE_APPROVED"}' in metrics
    assert 'rig_router_decisions_total{kind="AssignDev"}' in metrics


async def _outcomes(settings, router, issue, wanted: list[str]) -> bool:
    rows = await history(settings.database_url, router.schema, issue.subject)
    return [r["outcome"] for r in rows] == wanted


async def test_a_broken_config_blocks_with_one_comment_that_says_what_is_wrong(router, sandbox, run_id, conductor,
                                                                               settings):
    repo = make_repo(sandbox, f"bad-{run_id}", {".rig-agent.yaml": "stack: rust\ncolour: blue\n"})
    issue = Issue(repo, open_issue(sandbox, repo))
    approval = issue.approved()
    await publish(router.redis, router.names, approval)
    [blocked] = await eventually(lambda: events_of(router.redis, router.names, "ISSUE_BLOCKED"), what="ISSUE_BLOCKED")
    assert "'rust' is not a stack" in blocked.data.reason and "unknown key `colour`" in blocked.data.reason
    [body] = await eventually(lambda: comments(conductor, repo, issue.number), what="the comment")
    assert "use one of node, dotnet, python, ios, base" in body and "`colour`" in body
    assert "<!-- rig:router:" in body

    await publish(router.redis, router.names, again(approval))
    await eventually(lambda: _outcomes(settings, router, issue, ["applied", "duplicate"]), what="the redelivery")
    assert len(await comments(conductor, repo, issue.number)) == 1
    assert await router.redis.xlen(router.names.assignments("dev-e-base")) == 0
    assert len(await events_of(router.redis, router.names, "ISSUE_BLOCKED")) == 1

    # Fixed on the default branch, the label removed and added again: the item starts afresh.
    commit(sandbox, repo, {".rig-agent.yaml": "stack: node\n"})
    await publish(router.redis, router.names, issue.unapproved(), issue.approved(key="approved:2"))
    [assigned] = await eventually(lambda: events_of(router.redis, router.names, "ISSUE_ASSIGNED"), what="assigned")
    assert assigned.data.agent == "dev-e-node"
    assert len(await comments(conductor, repo, issue.number)) == 1


async def test_a_missing_config_means_base_and_an_escalation_for_people_mentions_the_maintainers(
        router, sandbox, run_id, conductor):
    bare = make_repo(sandbox, f"bare-{run_id}", {"README.md": "hi\n"})
    plain = Issue(bare, open_issue(sandbox, bare))
    repo = make_repo(sandbox, f"esc-{run_id}", {".rig-agent.yaml": "stack: node\nescalate: [needs a designer]\n"})
    design = Issue(repo, open_issue(sandbox, repo, "New logo"))
    await publish(router.redis, router.names, plain.approved(), design.approved(body="This needs a designer."))

    await eventually(lambda: router.redis.xlen(router.names.assignments("dev-e-base")), what="the base assignment")
    [escalated] = await eventually(lambda: events_of(router.redis, router.names, "ISSUE_ESCALATED"), what="escalation")
    assert escalated.subject == design.subject and "needs a designer" in escalated.data.reason
    [body] = await eventually(lambda: comments(conductor, repo, design.number), what="the escalation comment")
    assert "@alice @bob" in body
    assert await router.redis.xlen(router.names.assignments("dev-e-node")) == 0


async def test_requires_macos_goes_to_ibuild_e_which_pulls_it_with_a_lease(router, sandbox, run_id):
    repo = make_repo(sandbox, f"mac-{run_id}", {".rig-agent.yaml": "stack: node\n"
                                                                     "escalate: ['needs Xcode (requires-macos)']\n"})
    issue = Issue(repo, open_issue(sandbox, repo, "Build needs Xcode 16"))
    ibuild = router.token("agent:ibuild-e", "assignments:pull")
    assert (await router.http.get("/api/assignments/next?agentId=ibuild-e", headers=ibuild)).status_code == 204
    await publish(router.redis, router.names, issue.approved(title="Build needs Xcode 16"))
    [assigned] = await eventually(lambda: events_of(router.redis, router.names, "ISSUE_ASSIGNED"), what="assignment")
    assert assigned.data.agent == "ibuild-e"

    taken = (await router.http.get("/api/assignments/next?agentId=ibuild-e", headers=ibuild)).json()
    assert taken["id"] == assigned.data.assignment_id and taken["repo"] == repo and taken["leaseUntil"]
    assert (await router.http.get("/api/assignments/next?agentId=ibuild-e", headers=ibuild)).status_code == 204
    released = await router.http.post(f"/api/assignments/{taken['id']}/release?agentId=ibuild-e", headers=ibuild)
    assert released.json()["status"] == "waiting"
    again_taken = (await router.http.get("/api/assignments/next?agentId=ibuild-e", headers=ibuild)).json()
    assert again_taken["id"] == taken["id"]
    acked = await router.http.post(f"/api/assignments/{taken['id']}/ack?agentId=ibuild-e", headers=ibuild)
    assert acked.json()["status"] == "running"
    assert await router.redis.xlen(router.names.assignments("ibuild-e")) == 0, "pull mode has no stream"

    other = router.token("agent:dev-e-node", "assignments:pull")
    assert (await router.http.get("/api/assignments/next?agentId=ibuild-e", headers=other)).status_code == 403
    reader = router.token("agent:ibuild-e", "read")
    assert (await router.http.get("/api/assignments/next?agentId=ibuild-e", headers=reader)).status_code == 403
    assert (await router.http.get("/api/assignments/next?agentId=dev-e-node", headers=ibuild)).status_code == 403
    assert (await router.http.get("/api/assignments/next?agentId=nobody", headers=ibuild)).status_code == 422
    assert (await router.http.post("/api/assignments/nope/ack?agentId=ibuild-e", headers=ibuild)).status_code == 422


async def test_the_dispute_loop_and_a_label_removed_mid_work(router, sandbox, run_id):
    repo = make_repo(sandbox, f"loop-{run_id}", {".rig-agent.yaml": "stack: python\n"})
    issue = Issue(repo, open_issue(sandbox, repo))
    names = router.names
    await publish(router.redis, names, issue.approved(), issue.pr_created(7))
    await eventually(lambda: router.redis.xlen(names.assignments("review-e")), what="the review assignment")
    [review] = await entries(router.redis, names.assignments("review-e"))
    assert (review["issueNumber"], review["headSha"], review["round"]) == ("7", SHA_A, "1")
    dispute = issue.disputed(7, 100)
    await publish(router.redis, names, dispute, again(dispute))
    await eventually(lambda: _count(router, names.assignments("dev-e-python"), 2), what="back to dev-e")
    back = (await entries(router.redis, names.assignments("dev-e-python")))[-1]
    assert (back["feedback"], back["branch"], back["attempt"]) == ("Handle the empty cart.", "rig/fix", "2")
    # The public runtime reads only `body`: the issue's text, then the review's, marked (issue 14).
    first = (await entries(router.redis, names.assignments("dev-e-python")))[0]
    assert back["body"] == first["body"] + FEEDBACK_MARK + "Handle the empty cart."
    assert back["issueBody"] == first["body"] and "The review's text" in FEEDBACK_MARK
    await publish(router.redis, names, issue.unapproved())
    await eventually(lambda: events_of(router.redis, names, "ISSUE_CANCELLED"), what="ISSUE_CANCELLED")
    await publish(router.redis, names, issue.disputed(7, 101))
    item = await eventually(lambda: _anomalous(router, issue), what="the late dispute recorded as an anomaly")
    assert item["state"] == "CANCELLED" and "changes requested while CANCELLED" in item["anomalies"][-1]
    assert 'rig_router_anomalies_total{type="REVIEW_DISPUTED"}' in (await router.http.get("/metrics")).text
    queue = (await router.http.get("/api/queue", headers=router.token())).json()["agents"]
    assert queue["dev-e-python"]["depth"] == 0 and queue["review-e"]["depth"] == 0
    assert await router.redis.xlen(names.assignments("dev-e-python")) == 2
    assert await router.redis.llen(names.signal("dev-e-python")) == 2


async def _anomalous(router, issue: Issue) -> dict[str, Any] | None:
    item = (await router.http.get(f"/api/work-items/{issue.subject.replace('#', '/')}", headers=router.token())).json()
    return item if item.get("anomaly_count") else None


async def _count(router, stream: str, wanted: int) -> bool:
    return await router.redis.xlen(stream) >= wanted


def _counter(router, stream: str, wanted: int) -> Callable[[], Awaitable[bool]]:
    return lambda: _count(router, stream, wanted)


async def test_work_items_learnings_and_bad_requests(router, run_id):
    auth = router.token()
    assert (await router.http.get("/api/work-items/acme/none/5", headers=auth)).status_code == 404
    assert (await router.http.get("/api/work-items/acme/none/0", headers=auth)).status_code == 422
    assert (await router.http.get("/api/work-items/acme/none/x", headers=auth)).status_code == 422
    assert (await router.http.get("/api/work-items/acme/none/5")).status_code == 401
    dev = router.token("agent:dev-e-node", "events:write")
    learned = {"repo": f"acme/l-{run_id}", "key": "test-command", "value": "npm test -- --ci", "agentId": "dev-e-node"}
    assert (await router.http.post("/api/repo-learnings", json=learned, headers=dev)).status_code == 201
    spoofed = {**learned, "agentId": "review-e"}
    assert (await router.http.post("/api/repo-learnings", json=spoofed, headers=dev)).status_code == 403
    assert (await router.http.post("/api/repo-learnings", json={"repo": "x"}, headers=dev)).status_code == 422
    ours = auth | {"Accept": "application/vnd.rig.learnings+json"}
    found = (await router.http.get(f"/api/repo-learnings?repo=acme/l-{run_id}", headers=ours)).json()
    assert [(x["key"], x["value"], x["agentId"]) for x in found["learnings"]] == [
        ("test-command", "npm test -- --ci", "dev-e-node")]
    # The public runtime's path answers its own shape: a bare array of {key, value} (issue 14).
    bare = (await router.http.get(f"/api/repo-learnings?repo=acme/l-{run_id}", headers=auth)).json()
    assert bare == [{"key": "test-command", "value": "npm test -- --ci"}]


async def test_a_config_that_cannot_be_read_blocks_with_an_explanation(router, sandbox, run_id, conductor):
    repo = make_repo(sandbox, f"dir-{run_id}", {".rig-agent.yaml/stack": "python\n"})  # a folder, not a file
    issue = Issue(repo, open_issue(sandbox, repo))
    await publish(router.redis, router.names, issue.approved())
    [blocked] = await eventually(lambda: events_of(router.redis, router.names, "ISSUE_BLOCKED"), what="ISSUE_BLOCKED")
    assert "could not be read from the default branch" in blocked.data.reason
    [body] = await eventually(lambda: comments(conductor, repo, issue.number), what="the comment")
    assert "is a directory" in body


async def test_a_merge_blocked_by_failing_checks_goes_back_to_dev_with_them_then_escalates(router, run_id):
    issue, names = Issue(f"acme/ci-{run_id}", 8), router.names
    heads = [c * 40 for c in "abcde"]
    await publish(router.redis, names, issue.approved(), issue.pr_created(12, heads[0]), issue.passed(12, 1, heads[0]),
                  issue.merge_requested(12, heads[0]))
    failing = "ci: failure (2 tests failed: test_cart_total, test_empty_cart)"
    for attempt in (1, 2, 3):
        head = heads[attempt - 1]
        await publish(router.redis, names, issue.merge_blocked(12, "checks failed", failing, attempt, head))
        await eventually(_counter(router, names.assignments("dev-e-base"), 1 + attempt), what="a fix")
        fix = (await entries(router.redis, names.assignments("dev-e-base")))[-1]
        assert (fix["reason"], fix["feedback"], fix["branch"], fix["attempt"]) == (
            "checks failed", f"checks failed: {failing}", "rig/fix", str(1 + attempt))
        fixed = heads[attempt]
        await publish(router.redis, names, issue.pr_updated(12, fixed, head), issue.passed(12, 10 + attempt, fixed),
                      issue.merge_requested(12, fixed))
    await publish(router.redis, names, issue.merge_blocked(12, "checks failed", failing, 4, heads[3]))
    [escalated] = await eventually(lambda: events_of(router.redis, names, "ISSUE_ESCALATED"), what="escalation")
    assert "maxFixAttempts" in escalated.data.reason
    assert await router.redis.xlen(names.assignments("dev-e-base")) == 4
    assert await router.redis.xlen(names.assignments("review-e")) == 4, "each fixed head reviewed once"
