"""Key squatting (docs/security.md): a client's event key lives in its source's namespace, so a reported event
with a GitHub fact's key cannot make the real fact look like a duplicate. Ingest and the router as processes,
the sandbox delivering its webhooks with chaos on."""

from __future__ import annotations

import httpx
import pytest
from router_system_support import conductor
from system_support import KEYS

from rig_identity import mint
from rig_testing.waiting import eventually

REPO = "acme/squat"
FILES = {".rig-agent.yaml": "stack: python\n", "README.md": "# squat\n"}


@pytest.mark.timeout(240)
async def test_a_reported_key_equal_to_a_pr_facts_key_does_not_suppress_the_real_pr(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    async with conductor(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                         schema_suffix=schema_suffix, redis=redis) as rig:
        await rig.sandbox.post("/repos", {"owner": "acme", "name": "squat", "files": FILES})
        number = await rig.issue(REPO, "Fix the cart")
        subject = f"{REPO}#{number}"
        await eventually(lambda: rig.assignments("dev-e-python"), within_s=90, what="the dev assignment")
        squatted = f"pr:{REPO}#{number + 1}"  # the PR opened next: issues and PRs share their numbers
        token = mint(KEYS[0], "agent:dev-e-python", ["events:write"])
        squat = {"type": "WORK_STARTED", "subject": subject, "key": squatted,
                 "data": {"repo": REPO, "number": number, "branch": ""}}
        async with httpx.AsyncClient(timeout=30) as http:
            posted = await http.post(f"{rig.system.url('ingest')}/api/events", json=squat,
                                     headers={"Authorization": f"Bearer {token}"})
        assert posted.status_code == 202, posted.text
        branch = f"agent/{number}-fix-the-cart"
        await rig.sandbox.post(f"/repos/{REPO}/commits", {"branch": branch, "files": {"cart.txt": "kept"}})
        pull = await rig.roles.dev.open_pull(REPO, head=branch, title="Fix the cart", body=f"Closes #{number}")
        assert pull.number == number + 1

        await eventually(lambda: rig.assignments("review-e"), within_s=90, what="the PR going to review")
        [created] = await rig.published("PR_CREATED", subject)
        [reported] = await rig.published("WORK_STARTED", subject)
        assert created["key"] == squatted
        assert reported["key"] == f"reported:agent:dev-e-python:{squatted}"
        assert (await rig.work_item(REPO, number))["pr_number"] == pull.number
