"""The review loop's setup, shared by its tests: `acme/loop` on the sandbox, its issue routed to dev-e-python,
a PR pushed and opened as the dev agent would, and its first review assignment."""

from __future__ import annotations

from dataclasses import dataclass

from router_system_support import Conductor

from rig_github import PullInfo
from rig_testing.waiting import eventually

REPO = "acme/loop"
FILES = {".rig-agent.yaml": "stack: python\n", "README.md": "# loop\n"}


async def push(rig: Conductor, branch: str, name: str) -> str:
    """Commit a file to `branch` as a dev agent would push; the new head SHA."""
    made = await rig.sandbox.post(f"/repos/{REPO}/commits", {"branch": branch, "files": {f"{name}.txt": name}})
    return str(made["sha"])


async def head_of(rig: Conductor, pr: int) -> str:
    return (await rig.roles.conductor.get_pull(REPO, pr)).head_sha


async def counted(rig: Conductor, agent: str, wanted: int) -> bool:
    return len(await rig.assignments(agent)) >= wanted


async def wait_for(rig: Conductor, agent: str, wanted: int, what: str) -> dict[str, str]:
    await eventually(lambda: counted(rig, agent, wanted), within_s=90, what=what)
    entries = await rig.assignments(agent)
    assert len(entries) == wanted, f"{what}: {len(entries)} entries, not {wanted}"
    return entries[-1]


@dataclass(frozen=True)
class FirstReview:
    """The item at its first review: issue number, branch, the dev App's PR and review-e's assignment entry."""

    number: int
    branch: str
    pull: PullInfo
    review: dict[str, str]


async def first_review(rig: Conductor) -> FirstReview:
    """`acme/loop` with "Fix the cart" labelled, its branch pushed and its PR opened: until review-e is assigned."""
    await rig.sandbox.post("/repos", {"owner": "acme", "name": "loop", "files": FILES})
    number = await rig.issue(REPO, "Fix the cart")
    await wait_for(rig, "dev-e-python", 1, "the first dev assignment")
    branch = f"rig/{number}-fix-the-cart"
    await push(rig, branch, "one")
    pull = await rig.roles.dev.open_pull(REPO, head=branch, title="Fix the cart", body=f"Closes #{number}")
    review = await wait_for(rig, "review-e", 1, "the first review")
    return FirstReview(number, branch, pull, review)
