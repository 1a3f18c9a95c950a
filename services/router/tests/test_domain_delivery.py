"""Delivery as streams really do it: twice, late, out of order, about something else; never a crash."""

import random
from collections import Counter

import pytest
from pydantic import TypeAdapter
from workflow_support import (
    PR,
    SUBJECT,
    A,
    B,
    approved,
    assigned,
    checks,
    closed,
    disputed,
    heartbeat,
    kinds,
    merge_blocked,
    merge_requested,
    merged,
    passed,
    pr_created,
    pr_updated,
    review_assigned,
    review_loop_to_approval,
    run,
    started,
)

from rig_contracts import Event
from rig_contracts.catalogue import MergedEvent
from rig_workflow import AssignReview, Policy, State, WorkItem, decide


def full_life() -> list[Event]:
    """A realistic life with one dispute: every event the router would see, its own echoes included."""
    return [approved(), assigned(), started(), pr_created(A), review_assigned(A), disputed(A, 2),
            assigned(2), started("started:2"), pr_updated(B, A), review_assigned(B, 2), passed(B, 3),
            merge_requested(B), checks(B), heartbeat(), merged(B), closed("completed")]


def test_every_event_delivered_twice_acts_once():
    once, once_commands, _ = run(full_life())
    doubled = [e for event in full_life() for e in (event, event)]
    twice, twice_commands, decisions = run(doubled)
    assert twice == once and twice_commands == once_commands and twice.state is State.DONE
    unrouted = {"CHECKS_COMPLETED", "AGENT_HEARTBEAT"}  # recorded elsewhere, never keyed here
    second = [d for e, d in zip(doubled[1::2], decisions[1::2], strict=True) if e.type not in unrouted]
    assert len(second) == 14 and all(d.duplicate and d.commands == () for d in second)


def test_the_same_review_under_the_same_key_counts_once():
    item, commands, _ = run([approved(), pr_created(A), disputed(A, 7), disputed(A, 7)])
    assert item.disputes == 1 and kinds(commands).count("AssignDev") == 2


def test_a_duplicate_returns_the_item_unchanged():
    item, _, _ = run([approved()])
    decision = decide(item, approved(), Policy())
    assert decision.duplicate and decision.item is item and decision.commands == ()


def test_merged_before_the_review_passed_still_ends_done():
    item, commands, _ = run([approved(), assigned(), started(), pr_created(A), merged(A), passed(A), closed()])
    assert item.state is State.DONE and kinds(commands)[-1] == "Done"
    assert item.anomaly_count == 2  # merged while in review, and the approval after it


@pytest.mark.parametrize("order", ["close-first", "merge-first"])
def test_closed_as_completed_and_merged_end_done_in_either_order(order):
    last = [closed("completed"), merged(A)] if order == "close-first" else [merged(A), closed("completed")]
    item, commands, _ = run([*review_loop_to_approval(), merge_requested(A), *last])
    assert item.state is State.DONE and kinds(commands).count("Done") == 1 and item.merged


def test_a_late_push_of_a_replaced_head_is_an_anomaly():
    item, commands, _ = run([approved(), pr_created(A), pr_updated("c" * 40, B), pr_updated(B, A)])
    assert item.head_sha == "c" * 40 and item.anomaly_count == 1
    assert [c.head_sha for c in commands if isinstance(c, AssignReview)] == [A, "c" * 40]


def test_a_push_delivered_before_the_pr_keeps_the_newer_head():
    item, commands, _ = run([approved(), assigned(), pr_updated(B, A), pr_created(A)])
    assert item.head_sha == B and item.state is State.IN_REVIEW
    assert [c.head_sha for c in commands if isinstance(c, AssignReview)] == [B]


def test_an_approval_of_a_replaced_head_does_not_approve():
    item, commands, _ = run([approved(), pr_created(A), pr_updated(B, A), passed(A, 9)])
    assert item.state is State.IN_REVIEW and item.approved_sha is None and item.anomaly_count == 1
    assert "RequestMerge" not in kinds(commands)


def test_an_approval_delivered_before_its_push_is_kept():
    item, commands, _ = run([approved(), pr_created(A), review_assigned(A), passed(B, 9), pr_updated(B, A)])
    assert item.state is State.APPROVED_FOR_MERGE and kinds(commands)[-1] == "RequestMerge"


def test_a_pr_before_the_approval_is_not_adopted_and_the_approval_goes_to_dev_e():
    item, commands, _ = run([pr_created(A), approved(), disputed(A, 3)])
    assert item.state is State.APPROVED and kinds(commands) == ["AssignDev"]
    assert item.pr_number is None and item.foreign_prs == {PR} and item.branch == ""
    assert "before the issue was approved" in item.anomalies[0] and f"PR #{PR}" in item.anomalies[1]


def test_unexpected_events_are_counted_not_raised():
    item, _, decisions = run([*review_loop_to_approval(), merge_requested(A), merged(A), started("started:late"),
                              disputed(A, 50), approved("label:again")])
    assert item.state is State.MERGED and item.anomaly_count == 3 and len(item.anomalies) == 3
    assert [d.anomaly is not None for d in decisions[-3:]] == [True, True, True]


def test_events_it_does_not_route_on_and_foreign_subjects_change_nothing():
    assert decide(None, heartbeat(), Policy()).item is None
    stray = MergedEvent.of(source="ingest", subject="acme/shop@" + A, key="x",
                           data={"repo": "acme/shop", "pr_number": PR, "sha": A, "merge_sha": B})
    assert decide(None, stray, Policy()).item is None
    item, _, _ = run([approved()])
    other = stray.model_copy(update={"subject": "acme/shop#99"})
    decision = decide(item, other, Policy())
    assert decision.item is item and decision.anomaly is not None and SUBJECT in decision.anomaly


def life_with_a_fix() -> list[Event]:
    """Approved at A, blocked by a conflict while merging, rebased to B, reviewed and approved again, merged."""
    return [approved(), assigned(), started(), pr_created(A), review_assigned(A), passed(A, 1), merge_requested(A),
            merge_blocked("conflict", A), started("started:2"), pr_updated(B, A), review_assigned(B, 1),
            passed(B, 3), merge_requested(B), merged(B), closed("completed"), heartbeat()]


def _shuffled_with_duplicates(seed: int) -> list[Event]:
    rng = random.Random(seed)
    events = full_life() if seed % 2 else life_with_a_fix()
    events += [rng.choice(events) for _ in range(rng.randint(0, len(events)))]
    rng.shuffle(events)
    return events


@pytest.mark.parametrize("seed", range(300))
def test_any_delivery_order_with_duplicates_ends_done(seed):
    item, commands, _ = run(_shuffled_with_duplicates(seed))
    assert item.state is State.DONE and item.merged and item.closed_completed
    counted: Counter[str] = Counter(kinds(commands))
    assert counted["Done"] == 1 and counted["Cancel"] == 0
    reviewed = Counter(c.head_sha for c in commands if isinstance(c, AssignReview))
    assert all(n == 1 for n in reviewed.values())


def test_a_second_approval_of_the_head_being_merged_changes_nothing():
    item, _, _ = run([*review_loop_to_approval(), merge_requested(A)])
    again, commands, _ = run([passed(A, 77)], item=item)
    assert again.state is State.MERGING and commands == [] and again.anomaly_count == 0


def test_a_life_with_a_fix_in_order_merges_the_rebased_head():
    item, commands, _ = run(life_with_a_fix())
    assert item.state is State.DONE and item.fix_attempts == 1 and item.anomaly_count == 0
    assert kinds(commands) == ["AssignDev", "AssignReview", "RequestMerge", "AssignDev", "AssignReview",
                               "RequestMerge", "Done"]


def test_the_item_round_trips_through_json_for_the_projection():
    item, _, _ = run(full_life()[:-2])
    adapter = TypeAdapter(WorkItem)
    assert adapter.validate_json(adapter.dump_json(item)) == item
