"""WORK_STARTED and ISSUE_ESCALATED are acted on only from the item's current assignee; anyone else's are
recorded as anomalies (docs/security.md). The router's own escalations still work."""

from typing import Any

import pytest
from workflow_support import (
    REPO,
    SUBJECT,
    approved,
    assigned,
    escalated,
    pr_created,
    review_assigned,
    run,
    started,
)

from rig_contracts.catalogue import WorkStartedEvent
from rig_workflow import Escalate, Policy, State
from rig_workflow.domain import assignee, from_assignee

OUTSIDERS = ["agent:dev-e-node", "agent:review-e", "human:mallory", "network:127.0.0.1", "router-ish"]


def started_by(source: str, key: str = "started:other") -> WorkStartedEvent:
    return WorkStartedEvent.of(source=source, subject=SUBJECT, key=key,
                               data={"repo": REPO, "number": 12, "agent": "someone", "branch": ""})


@pytest.mark.parametrize("source", OUTSIDERS)
def test_work_started_by_anyone_but_the_assignee_is_only_recorded(source: str) -> None:
    before, _, _ = run([approved(), assigned()])
    item, commands, [decision] = run([started_by(source)], item=before)
    assert item.state is State.ASSIGNED and commands == []
    assert decision.anomaly is not None and f"work started by {source}" in decision.anomaly
    assert "assignee: dev-e-python" in decision.anomaly and item.anomaly_count == before.anomaly_count + 1


def test_work_started_by_the_assignee_is_acted_on() -> None:
    item, _, [*_, decision] = run([approved(), assigned(), started()])
    assert item.state is State.IN_PROGRESS and decision.anomaly is None


@pytest.mark.parametrize("source", [s for s in OUTSIDERS if s != "router-ish"] + ["agent:dev-e-python"])
def test_an_escalation_by_anyone_but_the_assignee_is_only_recorded(source: str) -> None:
    in_review, _, _ = run([approved(), assigned(), started(), pr_created(), review_assigned()])
    assert assignee(in_review) == "review-e"
    item, commands, [decision] = run([escalated(source=source)], item=in_review)
    if source == "agent:review-e":  # the reviewer holds it now
        assert item.state is State.ESCALATED and decision.anomaly is None
        return
    assert item.state is State.IN_REVIEW and commands == []
    assert decision.anomaly is not None and f"escalation by {source}" in decision.anomaly


def test_the_dev_pool_escalates_while_it_holds_the_item_and_the_routers_own_escalation_still_works() -> None:
    item, _, _ = run([approved(), assigned(), escalated()])
    assert item.state is State.ESCALATED
    item, commands, _ = run([approved()], Policy(escalation="needs a person"))
    assert item.state is State.ESCALATED and commands == [Escalate("label:1:escalate", "needs a person")]
    item, _, [decision] = run([escalated(source="router")], item=item)
    assert item.state is State.ESCALATED and decision.anomaly is None


def test_nobody_holds_a_new_item() -> None:
    item: Any = run([started_by("agent:dev-e-python")])[0]
    assert assignee(item) is None and not from_assignee(item, "agent:dev-e-python")
    assert item.state is State.NEW and item.branch == ""
