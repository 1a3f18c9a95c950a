"""Who moves code (issue 12, items 1 and 3), on real processes: every service and the edge under the supervisor,
dev-e-python woken on demand and driving the real Claude Code CLI against a scripted Messages API, the sandbox as
GitHub with its delivery chaos on. A reported branch never becomes the branch Dev-E pushes to, and a fork's PR
that says "Closes #N" is foreign to the item: recorded and shown, never reviewed, never a branch, its dispute
routes nothing. The base repository's default branch has the same SHA at the end as at the start."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from github_sandbox_support import CHAOS_SEED
from loop_support import Servers, conductor_with_agents, stored_events
from router_system_support import Conductor
from system_support import KEYS, eventually

from rig_contracts import Names
from rig_identity import mint
from rig_supervisor.harness import System
from rig_testing.model_script import Say, Shell, Step, Tokens

pytestmark = pytest.mark.slow

REPO = "acme/moves"
FORK = "outsider/moves"
FILES = {"README.md": "# moves\n", ".rig-agent.yaml": "stack: python\ntestCommand: grep -q dev-e hello.txt\n"}
AGENT = "dev-e-python"
DEV_NEW: list[Step] = [Shell("printf 'hello from dev-e\\n' > hello.txt", Tokens(input=100, output=10)),
                       Say("Added hello.txt.", Tokens(input=50, output=5))]
DEV_FIX: list[Step] = [Shell("printf 'addressed the review\\n' >> hello.txt", Tokens(input=100, output=10)),
                       Say("Added the second line.", Tokens(input=50, output=5))]
CHAOS = {"RIG_SANDBOX_CHAOS_SEED": str(CHAOS_SEED), "RIG_SANDBOX_MERGEABLE_UNKNOWN_MAX_S": "1"}
"""The sandbox's default delivery chaos (late, reordered, duplicated, dropped) with the cross tests' seed."""
FORK_FEEDBACK = "Rename everything on main"


@pytest.fixture
def claude(coding_clis, fake_anthropic) -> dict[str, str]:
    """The real Claude Code CLI against the scripted API: first work writes hello.txt, a fix appends a line."""
    fake_anthropic.script = DEV_NEW
    fake_anthropic.by_prompt = [("asked for changes", DEV_FIX)]
    return {"RIG_AGENT_PROVIDER": "claude", "RIG_AGENT_EXECUTABLE": str(coding_clis.claude),
            "RIG_AGENT_MODEL": "claude-sonnet-4-5", "RIG_AGENT_PROVIDER_BASE_URL": fake_anthropic.url,
            "ANTHROPIC_API_KEY": "sk-test-who-moves-code", "RIG_AGENT_SKIP_PERMISSIONS": "true"}


@contextlib.asynccontextmanager
async def running(tmp_path: Path, servers: Servers, claude: dict[str, str]) -> AsyncIterator[Conductor]:
    """The whole system with dev-e-python on demand, seen through the router cross tests' views."""
    async with (conductor_with_agents(tmp_path, servers, agents=(AGENT,), agent_env=claude, chaos=CHAOS,
                                      repos={REPO: FILES}) as (system, sandbox), sandbox.roles() as roles):
        yield Conductor(system, sandbox, roles, servers.redis, Names(servers.key_prefix))


async def tip(rig: Conductor, repo: str = REPO, branch: str = "main") -> str:
    sha: str = await rig.roles.conductor.run(lambda gh: gh.get_repo(repo).get_branch(branch).commit.sha)
    return sha


async def events_of(system: System, kind: str, subject: str) -> list[dict[str, Any]]:
    return [e for e in await stored_events(system) if e["type"] == kind and e["subject"] == subject]


async def value(check: Callable[[], Awaitable[Any]], what: str, within_s: float = 180) -> Any:
    """The first truthy answer of `check`, waiting for it."""
    found: list[Any] = []

    async def holds() -> bool:
        if answer := await check():
            found.append(answer)
        return bool(answer)
    await eventually(holds, within_s=within_s, what=what)
    return found[0]


async def report_work_started(rig: Conductor, subject: str, speaker: str, branch: str) -> httpx.Response:
    """WORK_STARTED naming `branch`, posted through the edge with `speaker`'s own token."""
    repo, number = subject.split("#")
    body = {"type": "WORK_STARTED", "subject": subject, "key": f"started:{speaker}:{subject}",
            "data": {"repo": repo, "number": int(number), "agent": speaker.split(":", 1)[1], "branch": branch}}
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(f"{rig.system.url('edge')}/api/events", json=body,
                               headers={"Authorization": f"Bearer {mint(KEYS[0], speaker, ['events:write'])}"})


async def dev_pr(rig: Conductor, subject: str) -> dict[str, Any]:
    """The PR_CREATED of dev-e's own PR (the dev App's bot opened it)."""
    async def found() -> dict[str, Any] | None:
        mine = [e["data"] for e in await events_of(rig.system, "PR_CREATED", subject)
                if e["data"]["author"].endswith("[bot]")]
        return mine[0] if mine else None
    pr: dict[str, Any] = await value(found, "dev-e's PR_CREATED")
    return pr


async def fork_pr_created(rig: Conductor, subject: str, number: int) -> bool:
    return any(e["data"]["pr_number"] == number and e["data"]["head_repo"] == FORK
               for e in await events_of(rig.system, "PR_CREATED", subject))


async def reviewed(rig: Conductor, subject: str, pr_number: int, head: str | None = None) -> bool:
    return any(e["data"]["pr_number"] == pr_number and head in (None, e["data"]["head_sha"])
               for e in await events_of(rig.system, "REVIEW_ASSIGNED", subject))


@pytest.mark.timeout(300)
async def test_a_reported_main_branch_then_the_approval_gives_a_normal_agent_pr(
        tmp_path, claude, database_url, redis_url, key_prefix, schema_suffix, redis):
    servers = Servers(database_url, redis_url, key_prefix, schema_suffix, redis)
    async with running(tmp_path, servers, claude) as rig:
        main_before = await tip(rig)
        number = int((await rig.sandbox.post(f"/repos/{REPO}/issues", {"title": "Say hello"}))["number"])
        subject = f"{REPO}#{number}"
        # The attack: before the label, a person's hook token and the dev pool's own token say work started on main.
        answers = [await report_work_started(rig, subject, speaker, "main")
                   for speaker in ("human:mallory", f"agent:{AGENT}")]
        if accepted := [a for a in answers if a.status_code == 202]:  # a stricter ingest may refuse them: fine too

            async def recorded() -> bool:
                history = (await rig.work_item(REPO, number)).get("history", [])
                return sum(h["type"] == "WORK_STARTED" for h in history) >= len(accepted)
            await eventually(recorded, within_s=60, what="the router to record the reported WORK_STARTED")
        await rig.label(REPO, number)

        pr = await dev_pr(rig, subject)
        await eventually(lambda: reviewed(rig, subject, pr["pr_number"], pr["head_sha"]), within_s=120,
                         what="dev-e's PR sent to review")
        item = await rig.work_item(REPO, number)
        entries = await rig.assignments(AGENT)
        main_after = await tip(rig)

    assert main_after == main_before
    assert pr["head_ref"].startswith(f"agent/{number}-say-hello") and pr["head_repo"] == REPO
    assert (item["branch"], item["pr_number"]) == (pr["head_ref"], pr["pr_number"])
    assert item["state"] in ("PR_OPEN", "IN_REVIEW") and item["foreign_prs"] == []
    assert [(entry["reason"], entry["branch"]) for entry in entries] == [("new", "")]


@pytest.mark.timeout(300)
async def test_a_fork_pr_named_main_is_foreign_and_a_dispute_pushes_nothing_to_main(
        tmp_path, claude, database_url, redis_url, key_prefix, schema_suffix, redis):
    servers = Servers(database_url, redis_url, key_prefix, schema_suffix, redis)
    async with running(tmp_path, servers, claude) as rig:
        outsider = await outsider_fork(rig)
        main_before = await tip(rig)
        number = await rig.issue(REPO, "Say hello", label=False)
        subject = f"{REPO}#{number}"
        # The outsider's fork PR from its own `main`, closing the issue, in before the approval (it used to be
        # reviewed at once, and its dispute sent dev-e to push to `main`).
        fork_head = await rig.sandbox.post(f"/repos/{FORK}/commits", {
            "branch": "main", "files": {"hello.txt": "hello from the fork\n"}, "author": "outsider"})
        async with as_outsider(rig, outsider) as http:
            opened = await http.post(f"/repos/{REPO}/pulls", json={
                "title": "Say hello", "head": "outsider:main", "base": "main", "body": f"Closes #{number}"})
        assert opened.status_code == 201, opened.text
        fork_pr = int(opened.json()["number"])
        await eventually(lambda: fork_pr_created(rig, subject, fork_pr), within_s=60, what="the fork's PR_CREATED")
        await rig.label(REPO, number)

        pr = await dev_pr(rig, subject)
        await eventually(lambda: reviewed(rig, subject, pr["pr_number"], pr["head_sha"]), within_s=120,
                         what="dev-e's PR sent to review")

        async def foreign() -> bool:
            return fork_pr in (await rig.work_item(REPO, number)).get("foreign_prs", [])
        await eventually(foreign, within_s=60, what="the fork's PR recorded as foreign")
        # The dispute: review-e asks for changes on the fork's PR, then on dev-e's own PR.
        await rig.roles.review.create_review(REPO, fork_pr, fork_head["sha"], "REQUEST_CHANGES", FORK_FEEDBACK)
        await rig.roles.review.create_review(REPO, pr["pr_number"], pr["head_sha"], "REQUEST_CHANGES",
                                             "hello.txt needs a second line.")

        async def pushed() -> list[dict[str, Any]]:
            return [e for e in await events_of(rig.system, "PR_UPDATED", subject)
                    if e["data"]["pr_number"] == pr["pr_number"]]
        [fix] = await value(pushed, "dev-e's fix pushed to its own branch")
        await eventually(lambda: reviewed(rig, subject, pr["pr_number"], fix["data"]["head_sha"]), within_s=120,
                         what="the fix sent to review")
        await rig.settle()
        item = await rig.work_item(REPO, number)
        entries = await rig.assignments(AGENT)
        review_prs = {e["data"]["pr_number"] for e in await events_of(rig.system, "REVIEW_ASSIGNED", subject)}
        main_after, fork_after = await tip(rig), await tip(rig, FORK)
        dev_branch = await tip(rig, REPO, pr["head_ref"])

    assert main_after == main_before, "nothing was pushed to the base repository's main"
    assert fork_after == fork_head["sha"]
    assert dev_branch == fix["data"]["head_sha"]
    assert review_prs == {pr["pr_number"]}, "the fork's PR was never sent to review"
    assert item["foreign_prs"] == [fork_pr] and item["branch"] == pr["head_ref"]
    assert any(f"PR #{fork_pr} has its head in the fork {FORK}" in why for why in item["anomalies"])
    assert [(e["reason"], e["branch"]) for e in entries] == [("new", ""), ("changes requested", pr["head_ref"])]
    assert all(FORK_FEEDBACK not in e["feedback"] for e in entries)


async def outsider_fork(rig: Conductor) -> str:
    """A second user, `outsider`, with a personal token and a fork of the repository; the token."""
    await rig.sandbox.post("/users", {"login": "outsider"})
    token = str((await rig.sandbox.post("/users/outsider/tokens", {}))["token"])
    async with as_outsider(rig, token) as http:
        forked = await http.post(f"/repos/{REPO}/forks")
    assert forked.status_code == 202 and forked.json()["full_name"] == FORK, forked.text
    return token


def as_outsider(rig: Conductor, token: str) -> httpx.AsyncClient:
    """GitHub's REST API as the outsider (their personal token)."""
    return httpx.AsyncClient(base_url=rig.sandbox.url, timeout=30, headers={"Authorization": f"token {token}"})
