"""The router's review loop end to end (real processes, the sandbox with delivery chaos): a PR goes to review-e,
a dispute back to the same dev pool with the feedback and the branch, a push to review again, the third dispute
escalates; the same review delivered twice counts once; a push after the approval sends the PR back to review."""

from __future__ import annotations

import pytest
from github_sandbox_support import all_deliveries
from review_loop_support import REPO, first_review, head_of, push, wait_for
from router_system_support import Conductor, conductor

from rig_testing.waiting import eventually


@pytest.mark.timeout(300)
async def test_disputes_go_back_to_dev_then_review_and_the_third_escalates(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    async with conductor(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                         schema_suffix=schema_suffix, redis=redis) as rig:
        first = await first_review(rig)
        number, branch, pull, review = first.number, first.branch, first.pull, first.review
        subject = f"{REPO}#{number}"
        assert (review["issueNumber"], review["headSha"], review["round"]) == (str(pull.number), pull.head_sha, "1")

        for round_ in (1, 2):
            head = await head_of(rig, pull.number)
            await rig.roles.review.create_review(REPO, pull.number, head, "REQUEST_CHANGES", f"Change {round_}")
            back = await wait_for(rig, "dev-e-python", 1 + round_, f"dev-e again after dispute {round_}")
            assert (back["feedback"], back["branch"], back["attempt"]) == (f"Change {round_}", branch, str(1 + round_))
            if round_ == 1:
                await _redeliver_reviews(rig)
                await rig.settle()
                assert len(await rig.assignments("dev-e-python")) == 2, "the same review counted once"
            await push(rig, branch, f"fix-{round_}")
            again = await wait_for(rig, "review-e", 1 + round_, f"review round {1 + round_}")
            assert again["round"] == str(1 + round_) and again["headSha"] == await head_of(rig, pull.number)

        head = await head_of(rig, pull.number)
        await rig.roles.review.create_review(REPO, pull.number, head, "REQUEST_CHANGES", "Change 3")
        await eventually(lambda: rig.state_is(REPO, number, "ESCALATED"), within_s=90, what="the escalation")
        [escalated] = await rig.published("ISSUE_ESCALATED", subject)
        assert "disputed 3 times" in escalated["data"]["reason"]
        [comment] = await eventually(lambda: _comments(rig, number), within_s=30, what="the escalation comment")
        assert "@alice" in comment and "disputed 3 times" in comment
        await rig.settle()
        assert len(await rig.assignments("dev-e-python")) == 3 and len(await rig.assignments("review-e")) == 3
        assert (await rig.kinds(subject))["REVIEW_DISPUTED"] == 3

        # Another issue: approved, then a push after the approval sends the new head to review.
        other = await rig.issue(REPO, "Tidy the README")
        await wait_for(rig, "dev-e-python", 4, "the second issue's dev assignment")
        second = f"rig/{other}-tidy"
        await push(rig, second, "tidy")
        pr = await rig.roles.dev.open_pull(REPO, head=second, title="Tidy", body=f"Fixes #{other}")
        await wait_for(rig, "review-e", 4, "the second issue's review")
        await rig.roles.review.create_review(REPO, pr.number, pr.head_sha, "APPROVE", "Looks good")
        await eventually(lambda: rig.state_is(REPO, other, "APPROVED_FOR_MERGE"), within_s=90, what="the approval")
        await push(rig, second, "after-approval")
        latest = await wait_for(rig, "review-e", 5, "a review of the head pushed after the approval")
        assert latest["headSha"] == await head_of(rig, pr.number) != pr.head_sha
        assert await rig.state_is(REPO, other, "IN_REVIEW") or await rig.state_is(REPO, other, "PR_OPEN")


async def _comments(rig: Conductor, number: int) -> list[str]:
    bodies: list[str] = await rig.roles.conductor.run(
        lambda gh: [c.body for c in gh.get_repo(REPO).get_issue(number).get_comments()])
    return bodies


async def _redeliver_reviews(rig: Conductor) -> None:
    """Ask the sandbox to deliver every review webhook again (GitHub's redelivery, through the deliveries API)."""
    for delivery in await all_deliveries(rig.roles.conductor):
        if delivery.event == "pull_request_review" and not delivery.redelivery:
            await rig.roles.conductor.redeliver(delivery.id)
