"""How work items end, end to end (real processes, the sandbox with delivery chaos): an issue closed as completed
by its merged PR is DONE and never CANCELLED whichever of the two facts arrives first; removing the label mid-work
cancels and stops further assignments; a broken `.rig-agent.yaml` gets one comment and no assignment, also after
a redelivery; `requires-macos` work goes to ibuild-e, which pulls it over HTTP."""

from __future__ import annotations

import httpx
import pytest
from github import Github
from github_sandbox_support import all_deliveries
from router_system_support import Conductor, conductor
from system_support import KEYS

from rig_identity import mint
from rig_testing.waiting import eventually

REPO = "acme/ends"
FILES = {".rig-agent.yaml": "stack: node\nescalate: ['needs Xcode (requires-macos)']\n", "README.md": "# ends\n"}


async def open_pr(rig: Conductor, number: int, branch: str, base: str = "main") -> tuple[int, str]:
    await rig.sandbox.post(f"/repos/{REPO}/commits", {"branch": branch, "files": {f"{branch}.txt": branch}})
    pull = await rig.roles.dev.open_pull(REPO, head=branch, title=f"Work on #{number}", body=f"Closes #{number}",
                                         base=base)
    return pull.number, pull.head_sha


async def seen(rig: Conductor, kind: str, number: int) -> None:
    await eventually(lambda: rig.published(kind, f"{REPO}#{number}"), within_s=90, what=f"{kind} for #{number}")


async def reaches(rig: Conductor, number: int, state: str) -> None:
    await eventually(lambda: rig.state_is(REPO, number, state), within_s=90, what=f"#{number} {state}")


def close_issue(gh: Github, number: int) -> None:
    gh.get_repo(REPO).get_issue(number).edit(state="closed", state_reason="completed")


async def passing_check(rig: Conductor, sha: str) -> None:
    await rig.roles.conductor.run(lambda gh: gh.get_repo(REPO).create_check_run(
        "ci", sha, status="completed", conclusion="success", output={"title": "ci", "summary": "green"}).id)


@pytest.mark.timeout(300)
async def test_done_in_both_orders_and_a_label_removed_mid_work(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    async with conductor(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                         schema_suffix=schema_suffix, redis=redis) as rig:
        await rig.sandbox.post("/repos", {"owner": "acme", "name": "ends", "files": FILES})
        await rig.sandbox.post(f"/repos/{REPO}/commits", {"branch": "release", "files": {"r.txt": "r\n"}})
        first = await rig.issue(REPO, "Merged first")
        second = await rig.issue(REPO, "Closed first")
        third = await rig.issue(REPO, "Label removed")
        for number in (first, second, third):
            await seen(rig, "ISSUE_ASSIGNED", number)
        items = {}
        for number, base in ((first, "release"), (second, "main"), (third, "main")):
            pr, head = await open_pr(rig, number, f"work-{number}", base)
            await seen(rig, "REVIEW_ASSIGNED", number)
            await passing_check(rig, head)
            items[number] = (pr, head)

        # First: merged into a branch that closes nothing, then the issue closed by hand as completed.
        await rig.roles.conductor.merge(REPO, *items[first])
        await eventually(lambda: rig.published("MERGED", f"{REPO}#{first}"), within_s=90, what="MERGED first")
        await rig.roles.conductor.run(lambda gh: close_issue(gh, first))
        # Second: the issue closed by hand first, then its PR merged.
        await rig.roles.conductor.run(lambda gh: close_issue(gh, second))
        await eventually(lambda: rig.published("ISSUE_CLOSED", f"{REPO}#{second}"), within_s=90, what="closed")
        await rig.roles.conductor.merge(REPO, *items[second])
        # Third: the label removed while its PR is in review; a later dispute assigns nothing.
        await rig.unlabel(REPO, third)
        await eventually(lambda: rig.published("ISSUE_CANCELLED", f"{REPO}#{third}"), within_s=90, what="cancel")
        await rig.roles.review.create_review(REPO, items[third][0], items[third][1], "REQUEST_CHANGES", "More")
        await eventually(lambda: rig.published("REVIEW_DISPUTED", f"{REPO}#{third}"), within_s=90, what="dispute")

        for number in (first, second):
            await reaches(rig, number, "DONE")
        await rig.settle()
        for number in (first, second):
            kinds = await rig.kinds(f"{REPO}#{number}")
            assert kinds["ISSUE_CANCELLED"] == 0 and kinds["MERGED"] == 1 and kinds["ISSUE_CLOSED"] == 1
        assert await rig.state_is(REPO, third, "CANCELLED")
        third_kinds = await rig.kinds(f"{REPO}#{third}")
        assert third_kinds["ISSUE_ASSIGNED"] == 1 and third_kinds["REVIEW_ASSIGNED"] == 1
        assert third_kinds["ISSUE_CANCELLED"] == 1
        assert len(await rig.assignments("dev-e-node")) == 3, "no assignment after the cancel"
        item = await rig.work_item(REPO, third)
        assert all(a["status"] != "waiting" for a in item["assignments"])


@pytest.mark.timeout(300)
async def test_a_broken_config_comments_once_and_macos_work_is_pulled_by_ibuild_e(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    async with conductor(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                         schema_suffix=schema_suffix, redis=redis) as rig:
        await rig.sandbox.post("/repos", {"owner": "acme", "name": "broken",
                                          "files": {".rig-agent.yaml": "stack: rust\nmaxReviewRounds: lots\n"}})
        await rig.sandbox.post("/repos", {"owner": "acme", "name": "ends", "files": FILES})
        broken = int((await rig.sandbox.post("/repos/acme/broken/issues", {"title": "Port it"}))["number"])
        answer = await rig.sandbox.control.post(f"/_sandbox/repos/acme/broken/issues/{broken}/labels",
                                                json={"labels": ["agent-ready"]})
        assert answer.status_code == 200
        [comment] = await eventually(lambda: _comments(rig, "acme/broken", broken), within_s=90, what="the comment")
        assert "'rust' is not a stack" in comment and "`maxReviewRounds`" in comment and "How to fix it" in comment
        for delivery in await all_deliveries(rig.roles.conductor):
            if delivery.event == "issues" and delivery.action == "labeled":
                await rig.roles.conductor.redeliver(delivery.id)
        mac = await rig.issue(REPO, "Build needs Xcode 16")
        await eventually(lambda: rig.published("ISSUE_ASSIGNED", f"{REPO}#{mac}"), within_s=90, what="ibuild-e")
        await rig.settle()
        assert len(await _comments(rig, "acme/broken", broken)) == 1
        assert await rig.state_is("acme/broken", broken, "BLOCKED")
        assert (await rig.kinds(f"acme/broken#{broken}"))["ISSUE_ASSIGNED"] == 0

        token = mint(_private_key(), "agent:ibuild-e", ["assignments:pull"])
        url = f"{rig.system.url('router')}/api/assignments/next?agentId=ibuild-e"
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
            taken = (await http.get(url)).json()
            assert (taken["repo"], taken["issueNumber"], taken["kind"]) == (REPO, str(mac), "dev")
            assert (await http.get(url)).status_code == 204
            assert (await http.post(f"{rig.system.url('router')}/api/assignments/{taken['id']}/ack?agentId=ibuild-e")
                    ).json()["status"] == "running"
        assert await rig.redis.xlen(rig.names.assignments("ibuild-e")) == 0


def _private_key() -> str:
    return KEYS[0]


async def _comments(rig: Conductor, repo: str, number: int) -> list[str]:
    bodies: list[str] = await rig.roles.conductor.run(
        lambda gh: [c.body for c in gh.get_repo(repo).get_issue(number).get_comments()])
    return bodies
