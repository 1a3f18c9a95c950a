"""Only the item's current assignee starts or escalates it (docs/security.md): another pool's WORK_STARTED and
ISSUE_ESCALATED, posted through ingest with a valid token of its own, are recorded by the router as anomalies and
change nothing. Ingest and the router as processes, the sandbox delivering its webhooks with chaos on."""

from __future__ import annotations

import httpx
import pytest
from router_system_support import Conductor, conductor
from system_support import KEYS

from rig_identity import mint
from rig_testing.waiting import eventually

REPO = "acme/held"
FILES = {".rig-agent.yaml": "stack: python\n", "README.md": "# held\n"}


async def report(rig: Conductor, agent: str, body: dict[str, object]) -> None:
    token = mint(KEYS[0], f"agent:{agent}", ["events:write"])
    async with httpx.AsyncClient(timeout=30) as http:
        posted = await http.post(f"{rig.system.url('ingest')}/api/events", json=body,
                                 headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 202, posted.text


@pytest.mark.timeout(240)
async def test_another_pool_cannot_start_or_escalate_the_item(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    async with conductor(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                         schema_suffix=schema_suffix, redis=redis) as rig:
        await rig.sandbox.post("/repos", {"owner": "acme", "name": "held", "files": FILES})
        number = await rig.issue(REPO, "Fix the cart")
        subject, ref = f"{REPO}#{number}", {"repo": REPO, "number": number}
        await eventually(lambda: rig.state_is(REPO, number, "ASSIGNED"), within_s=90, what="the dev assignment")

        await report(rig, "dev-e-node", {"type": "WORK_STARTED", "subject": subject, "data": {**ref, "branch": ""}})
        await report(rig, "dev-e-node", {"type": "ISSUE_ESCALATED", "subject": subject,
                                         "data": {**ref, "reason": "give it to people"}})

        async def both_recorded() -> bool:
            return len((await rig.work_item(REPO, number)).get("anomalies", [])) >= 2
        await eventually(both_recorded, within_s=60, what="the router to record both as anomalies")
        item = await rig.work_item(REPO, number)
        assert item["state"] == "ASSIGNED", item
        assert any("work started by agent:dev-e-node" in a for a in item["anomalies"])
        assert any("escalation by agent:dev-e-node" in a for a in item["anomalies"])
        escalations = await rig.published("ISSUE_ESCALATED", subject)
        assert [e["source"] for e in escalations] == ["agent:dev-e-node"], "the router escalated nothing itself"

        await report(rig, "dev-e-python", {"type": "WORK_STARTED", "subject": subject,
                                           "data": {**ref, "branch": ""}})
        await eventually(lambda: rig.state_is(REPO, number, "IN_PROGRESS"), within_s=60,
                         what="the assignee's WORK_STARTED to be acted on")
