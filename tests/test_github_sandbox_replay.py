"""With delivery chaos on, a fixed seed replays: the same scripted run against two fresh sandbox processes with
the same seed gives the same deliveries (the same events and actions, in the same order, with the same
duplicates and drops), so a failing cross-service test can be run again as it failed; another seed differs."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from github import Github
from github_sandbox_support import CHAOS_SEED, Roles, Sandbox, receiving, sandbox_process, settled

REPO = "acme/widgets"
OTHER_SEED = CHAOS_SEED + 1

Arrival = tuple[str, str | None, bool]
"""(event, action, whether this GUID had arrived before) of one delivery, in the order the receiver got it."""
Listed = tuple[str, str | None, str, bool]
"""(event, action, status, redelivery) of one delivery as the deliveries API lists it."""


def check_run(gh: Github, *, sha: str, conclusion: str) -> int:
    """Report the `ci` check run on `sha` (in a pool thread of the client)."""
    return gh.get_repo(REPO).create_check_run("ci", sha, status="completed", conclusion=conclusion,
                                              output={"title": conclusion, "summary": conclusion}).id


async def scenario(sandbox: Sandbox, roles: Roles) -> None:
    """One scripted run: an issue labelled and discussed, a pull request closing it, checks, review, merge."""
    await sandbox.post("/repos", {"owner": "acme", "name": "widgets", "files": {"README.md": "# widgets\n"}})
    await roles.conductor.run(lambda gh: gh.get_repo(REPO).create_issue(title="Replay me").number)
    await roles.conductor.add_labels(REPO, 1, "agent-ready")
    await roles.conductor.comment_once(REPO, 1, "claim", "Taken by a dev agent")
    head = (await sandbox.post(f"/repos/{REPO}/commits", {"branch": "feature", "files": {"f.txt": "f\n"}}))["sha"]
    pull = await roles.dev.open_pull(REPO, head="feature", title="Replay", body="Closes #1")
    for conclusion in ("failure", "success"):
        await roles.conductor.run(partial(check_run, sha=head, conclusion=conclusion))
    await roles.review.create_review(REPO, pull.number, head, "APPROVE")
    await roles.conductor.remove_label(REPO, 1, "agent-ready")
    assert (await roles.conductor.merge(REPO, pull.number, head)).merged


async def replay(folder: Path, seed: int) -> tuple[list[tuple[str, str | None]], list[Arrival], list[Listed]]:
    """Run the scenario against a fresh sandbox with `seed`: what was emitted, what arrived, what the
    deliveries API lists (oldest first)."""
    async with (receiving() as receiver,
                sandbox_process(folder / "data", receiver, RIG_SANDBOX_CHAOS_SEED=str(seed)) as sandbox,
                sandbox.roles() as roles):
        await scenario(sandbox, roles)
        deliveries = await settled(sandbox, roles.conductor)
        emitted = await sandbox.emitted()
        assert receiver.forged == 0
    arrived: list[Arrival] = []
    seen: set[str] = set()
    for hook in receiver.hooks:
        arrived.append((hook.event, hook.action, hook.guid in seen))
        seen.add(hook.guid)
    listed: list[Listed] = [(d.event, d.action, d.status, d.redelivery) for d in reversed(deliveries)]
    return emitted, arrived, listed


async def test_the_same_seed_gives_the_same_deliveries_and_another_seed_other_ones(tmp_path) -> None:
    emitted, arrived, listed = await replay(tmp_path / "first", CHAOS_SEED)
    again_emitted, again_arrived, again_listed = await replay(tmp_path / "again", CHAOS_SEED)
    other_emitted, other_arrived, other_listed = await replay(tmp_path / "other", OTHER_SEED)

    assert emitted == again_emitted == other_emitted, "the script emits the same events each time"
    in_order = [(event, action, False) for event, action in emitted]
    assert arrived != in_order, f"seed {CHAOS_SEED} visibly reorders, duplicates or drops in this run"
    assert any(duplicate for *_, duplicate in arrived) and len(listed) > len(emitted)
    assert any(status != "OK" for _, _, status, _ in listed)
    assert again_arrived == arrived, "same seed: the same deliveries, order, duplicates and drops"
    assert again_listed == listed
    assert other_arrived != arrived and other_listed != listed
