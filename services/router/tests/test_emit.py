"""Decisions into effects: which events, assignment entries and comments each command makes (pure, no I/O)."""

from rig_contracts import Names
from rig_router.emit import Effects, Emitter
from rig_router.projection import ItemRow
from rig_workflow import AssignDev, AssignReview, Block, Cancel, Done, Escalate, RequestMerge, State, WorkItem

NAMES = Names("t:")
ROW = ItemRow(WorkItem("acme/shop", 7, State.IN_PROGRESS, agent="dev-e-node", stack="node", attempt=1,
                       pr_number=9, branch="rig/7", head_sha="a" * 40),
              details={"title": "Fix it", "body": "Body", "tools": ["jq", "ruff"], "priority": "high"})


def run(*commands) -> tuple[Effects, list[str]]:
    effects = Effects()
    words = Emitter(NAMES, ["alice"]).effects(ROW, None, commands, effects)
    return effects, words


def test_a_dev_assignment_is_an_entry_with_its_signal_and_an_event():
    effects, _ = run(AssignDev("k:assign", "dev-e-node", "node", 2, "changes requested", "rig/7", "Do more"))
    entry, event = effects.outbox
    [assignment] = effects.assignments
    assert (entry.stream, entry.signal) == ("t:assignments:dev-e-node", "t:signal:dev-e-node")
    assert event.stream == "t:rig:events"
    assert entry.event.id == assignment.id == event.event.data.assignment_id != event.event.id
    assert entry.extra["tools"] == "jq,ruff" and entry.extra["feedback"] == "Do more" and entry.extra["attempt"] == "2"
    assert assignment.outbox == (entry, event) and event.event.key == "k:assign"


def test_a_review_assignment_names_the_pr_and_its_head():
    effects, _ = run(AssignReview("k:review", 9, "b" * 40, 2))
    entry, event = effects.outbox
    assert entry.stream == "t:assignments:review-e" and entry.extra["issueNumber"] == "9"
    assert (event.event.type, event.event.data.head_sha, event.event.data.round) == ("REVIEW_ASSIGNED", "b" * 40, 2)


def test_an_escalation_to_ibuild_e_is_a_pulled_assignment_without_a_comment():
    effects, words = run(Escalate("k:esc", "needs macOS", to="ibuild-e"))
    escalated, assigned = effects.outbox
    assert (escalated.event.type, escalated.event.data.to) == ("ISSUE_ESCALATED", "ibuild-e")
    assert assigned.event.type == "ISSUE_ASSIGNED" and assigned.event.data.agent == "ibuild-e"
    assert [a.agent for a in effects.assignments] == ["ibuild-e"] and effects.comments == []
    assert words == ["escalate to ibuild-e: needs macOS"]


def test_people_escalations_and_blocks_comment_cancel_does_not():
    effects, _ = run(Escalate("k:esc", "review disputed 3 times"), Block("k:block", "budget spent"), Cancel("k:c", "x"))
    assert [e.event.type for e in effects.outbox] == ["ISSUE_ESCALATED", "ISSUE_BLOCKED", "ISSUE_CANCELLED"]
    people, blocked = effects.comments
    assert "@alice" in people.body and "review disputed 3 times" in people.body
    assert blocked.key == "k:block" and "budget spent" in blocked.body
    assert effects.cancelled == ["acme/shop#7"] * 3


def test_merges_and_done_are_other_services_events():
    effects, words = run(RequestMerge("k:m", 9, "a" * 40), Done("k:d", 9, "f" * 40))
    assert effects.outbox == [] and effects.assignments == []
    assert words == [f"merge of {'a' * 12} is review-e's to request", "done (ISSUE_DONE is the merger's)"]
