"""A spent budget stops new assignments: an issue's for that item, a repository's for that repository today."""

from router_support import Issue, events_of, publish

from rig_contracts.catalogue import BudgetExceededEvent
from rig_testing.waiting import eventually


def spent(repo: str, scope: str = "repo_day", number: int | None = None) -> BudgetExceededEvent:
    subject = f"{repo}#{number}" if number else repo
    return BudgetExceededEvent.of(source="costs", subject=subject, key=f"budget:{scope}:{subject}", data={
        "scope": scope, "repo": repo, "number": number, "limit_usd": 50, "spent_usd": 50.4})


async def test_a_spent_repository_budget_blocks_new_work_there_only(router, run_id):
    names, broke, fine = router.names, f"acme/broke-{run_id}", f"acme/fine-{run_id}"
    await publish(router.redis, names, spent(broke))
    await publish(router.redis, names, Issue(broke, 1).approved(), Issue(fine, 1).approved())
    [blocked] = await eventually(lambda: events_of(router.redis, names, "ISSUE_BLOCKED"), what="the block")
    assert blocked.subject == f"{broke}#1" and "budget" in blocked.data.reason
    [assigned] = await eventually(lambda: events_of(router.redis, names, "ISSUE_ASSIGNED"), what="the other one")
    assert assigned.subject == f"{fine}#1"


async def test_a_spent_issue_budget_stops_the_next_assignment(router, run_id):
    issue = Issue(f"acme/issue-{run_id}", 4)
    await publish(router.redis, router.names, issue.approved(), issue.pr_created(9))
    await eventually(lambda: events_of(router.redis, router.names, "REVIEW_ASSIGNED"), what="in review")
    await publish(router.redis, router.names, spent(issue.repo, "issue", 4), issue.disputed(9, 1))
    [blocked] = await eventually(lambda: events_of(router.redis, router.names, "ISSUE_BLOCKED"), what="the block")
    assert "budget" in blocked.data.reason
    assert len(await events_of(router.redis, router.names, "ISSUE_ASSIGNED")) == 1
