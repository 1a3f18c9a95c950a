"""The router end to end: ingest and the router as real processes, the sandbox delivering webhooks with chaos on,
real Valkey and Postgres. A labeled issue is assigned once, even when the router is killed at each fault point."""

from __future__ import annotations

import pytest
from router_system_support import arm, conductor, disarm_after_fault

from rig_contracts import event_from_json
from rig_testing.waiting import eventually

REPO = "acme/shop"
PYTHON = {".rig-agent.yaml": "stack: python\ntestCommand: pytest -q\ntools: [ruff]\n", "README.md": "# shop\n"}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("point", [None, "router.after_commit", "relay.after_publish", "consumer.before_ack"])
async def test_a_labeled_issue_gives_one_assignment_one_signal_one_event(
        point, tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    async with conductor(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                         schema_suffix=schema_suffix, redis=redis) as rig:
        await rig.sandbox.post("/repos", {"owner": "acme", "name": "shop", "files": PYTHON})
        if point is not None:
            await arm(rig.system, "router", point)
        number = await rig.issue(REPO, "Fix the cart", "The cart forgets items.")
        if point is not None:
            await disarm_after_fault(rig.system, "router")
        subject = f"{REPO}#{number}"

        await eventually(lambda: rig.published("ISSUE_ASSIGNED", subject), within_s=60, what="ISSUE_ASSIGNED")
        await rig.settle()

        kinds = await rig.kinds(subject)
        assert kinds["ISSUE_APPROVED"] >= 1 and kinds["ISSUE_ASSIGNED"] == 1
        [entry] = await rig.assignments("dev-e-python")
        assert await rig.signals("dev-e-python") == 1
        [event] = await rig.published("ISSUE_ASSIGNED", subject)
        assert event_from_json(entry["event"]).id == event["data"]["assignment_id"]
        assert (entry["repo"], entry["issueNumber"], entry["testCommand"], entry["tools"]) == (
            REPO, str(number), "pytest -q", "ruff")
        item = await rig.work_item(REPO, number)
        assert item["state"] == "ASSIGNED" and [a["agent"] for a in item["assignments"]] == ["dev-e-python"]
        if point is not None:
            assert rig.system.restarts("router") >= 2, "armed once, then killed at the point"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("point", ["router.after_commit", "router.after_comment"])
async def test_a_broken_config_gets_one_comment_when_the_router_dies_around_it(
        point, tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    async with conductor(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                         schema_suffix=schema_suffix, redis=redis) as rig:
        await rig.sandbox.post("/repos", {"owner": "acme", "name": "shop",
                                          "files": {".rig-agent.yaml": "stack: cobol\n"}})
        await arm(rig.system, "router", point)
        number = await rig.issue(REPO, "Port it")
        await disarm_after_fault(rig.system, "router")

        async def bodies() -> list[str]:
            found: list[str] = await rig.roles.conductor.run(
                lambda gh: [c.body for c in gh.get_repo(REPO).get_issue(number).get_comments()])
            return found
        await eventually(bodies, within_s=60, what="the comment")
        await eventually(lambda: rig.state_is(REPO, number, "BLOCKED"), within_s=60, what="BLOCKED")
        await rig.settle()
        [comment] = await bodies()
        assert "'cobol' is not a stack" in comment
        assert (await rig.kinds(f"{REPO}#{number}"))["ISSUE_BLOCKED"] == 1
        assert await rig.assignments("dev-e-base") == []
