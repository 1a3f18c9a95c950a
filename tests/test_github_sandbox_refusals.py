"""GitHub's refusals as the client library surfaces them from the sandbox process: an App approving its own
pull request (422), a merge at a stale SHA (409); and failed webhook deliveries redelivered through the
deliveries API, whether the receiver answered 500 or the sandbox failed them on purpose."""

from __future__ import annotations

import pytest
from github_sandbox_support import (
    CHAOS_SEED,
    Sandbox,
    all_deliveries,
    receiving,
    sandbox_process,
)

from rig_github import Delivery, GitHubClient, HeadMovedError, ValidationFailedError
from rig_testing.waiting import eventually

REPO = "acme/widgets"
FILES = {"README.md": "# widgets\n"}
CHAOS = {"RIG_SANDBOX_CHAOS_SEED": str(CHAOS_SEED)}


async def push(sandbox: Sandbox, branch: str, text: str) -> str:
    """Commit and push to `branch` through the control API (as a person pushing would); the new head SHA."""
    pushed = await sandbox.post(f"/repos/{REPO}/commits", {"branch": branch, "files": {"feature.txt": text}})
    return str(pushed["sha"])


async def failed_delivery(client: GitHubClient, event: str, action: str) -> Delivery:
    """The first-attempt delivery of `event.action`, once the deliveries API lists it as failed."""
    async def failed() -> Delivery | None:
        found = [d for d in await all_deliveries(client) if (d.event, d.action) == (event, action)
                 and not d.redelivery and d.status != "OK"]
        return found[0] if found else None

    delivery: Delivery = await eventually(failed, what=f"a failed {event}.{action} delivery")
    return delivery


async def test_an_app_cannot_approve_its_own_pull_request_nor_merge_a_stale_sha(tmp_path) -> None:
    async with (receiving() as receiver, sandbox_process(tmp_path / "data", receiver, **CHAOS) as sandbox,
                sandbox.roles() as roles):
        await sandbox.post("/repos", {"owner": "acme", "name": "widgets", "files": FILES})
        first = await push(sandbox, "feature", "one\n")
        pull = await roles.dev.open_pull(REPO, head="feature", title="Feature", body="")

        with pytest.raises(ValidationFailedError) as own:
            await roles.dev.create_review(REPO, pull.number, first, "APPROVE")
        assert own.value.status == 422
        assert "Can not approve your own pull request" in own.value.message
        assert await roles.dev.list_reviews(REPO, pull.number) == []
        approved = await roles.review.create_review(REPO, pull.number, first, "APPROVE")
        assert (approved.state, approved.author) == ("APPROVED", sandbox.apps["review"]["bot_login"])

        moved = await push(sandbox, "feature", "two\n")
        with pytest.raises(HeadMovedError) as stale:
            await roles.conductor.merge(REPO, pull.number, first)
        assert stale.value.status == 409 and moved in stale.value.message
        after = await roles.conductor.get_pull(REPO, pull.number)
        assert (after.state, after.merged, after.head_sha) == ("open", False, moved)
        main = await roles.conductor.run(lambda gh: gh.get_repo(REPO).get_branch("main").commit.sha)
        assert (await roles.conductor.merge(REPO, pull.number, moved)).merged
        assert await roles.conductor.run(lambda gh: gh.get_repo(REPO).get_branch("main").commit.sha) != main


async def test_a_delivery_the_receiver_refused_is_redelivered_through_the_api(tmp_path) -> None:
    async with (receiving() as receiver, sandbox_process(tmp_path / "data", receiver, **CHAOS) as sandbox,
                sandbox.roles() as roles):
        await sandbox.post("/repos", {"owner": "acme", "name": "widgets", "files": FILES})
        receiver.answer = 500
        await roles.conductor.run(lambda gh: gh.get_repo(REPO).create_issue(title="Refused").number)
        failed = await failed_delivery(roles.conductor, "issues", "opened")
        detail = await roles.conductor.get_delivery(failed.id)
        assert (detail.status_code, detail.status) == (500, "Invalid HTTP Response: 500")
        assert detail.raw["request"]["headers"]["X-GitHub-Delivery"] == failed.guid
        assert failed.guid in receiver.refused and failed.guid not in receiver.guids()

        receiver.answer = 200
        await roles.conductor.redeliver(failed.id)
        got = await eventually(lambda: _arrived(receiver.hooks, failed.guid), what="the redelivery")
        assert (got.event, got.action, got.payload["issue"]["title"]) == ("issues", "opened", "Refused")
        listed = [d for d in await all_deliveries(roles.conductor) if d.guid == failed.guid]
        assert [(d.redelivery, d.status) for d in listed] == [(True, "OK"), (False, "Invalid HTTP Response: 500")]
        assert receiver.forged == 0


async def test_deliveries_failed_on_purpose_are_redelivered_once_the_switch_is_off(tmp_path) -> None:
    data = tmp_path / "data"
    async with receiving() as receiver:
        async with (sandbox_process(data, receiver, RIG_SANDBOX_FAIL_DELIVERIES="true", **CHAOS) as sandbox,
                    sandbox.roles() as roles):
            await sandbox.post("/repos", {"owner": "acme", "name": "widgets", "files": FILES})
            await roles.conductor.run(lambda gh: gh.get_repo(REPO).create_issue(title="Unheard").number)
            failed = await failed_delivery(roles.conductor, "issues", "opened")
            assert (failed.status_code, failed.status) == (502, "failed to connect")
            await roles.conductor.redeliver(failed.id)  # the switch fails the redelivery too, as a dead host would
            again = await eventually(lambda: _redeliveries(roles.conductor, failed.guid), what="a redelivery")
            assert [d.status for d in again] == ["failed to connect"]
        assert receiver.hooks == [] and receiver.refused == []

        async with sandbox_process(data, receiver, **CHAOS) as sandbox, sandbox.roles() as roles:
            await roles.conductor.redeliver(failed.id)
            got = await eventually(lambda: _arrived(receiver.hooks, failed.guid), what="the redelivery")
            assert (got.event, got.payload["issue"]["title"]) == ("issues", "Unheard")
            statuses = [d.status for d in await _redeliveries(roles.conductor, failed.guid)]
            assert statuses == ["OK", "failed to connect"]


async def _arrived(hooks, guid: str):
    return next((hook for hook in hooks if hook.guid == guid), None)


async def _redeliveries(client: GitHubClient, guid: str) -> list[Delivery]:
    return [d for d in await all_deliveries(client) if d.guid == guid and d.redelivery]
