"""Which deliveries the sweep asks GitHub to send again, pure: stored, missing, in flight, given up."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rig_ingest.recovery import Asked, Plan, plan, within

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    id: int
    guid: str
    status_code: int = 502
    event: str = "issues"
    delivered_at: str = "2026-11-25T11:59:00Z"


def decide(rows, stored=(), asked=None, retry_after_s=300.0, max_attempts=3) -> Plan[Row]:
    return plan(rows, set(stored), asked or {}, now=NOW, retry_after_s=retry_after_s, max_attempts=max_attempts)


def test_a_missing_guid_is_asked_for_once_per_pass_at_its_newest_attempt():
    rows = [Row(1, "a"), Row(2, "a", status_code=504), Row(3, "b", status_code=200), Row(4, "c")]
    result = decide(rows, stored={"b"})
    assert [(d.id, d.guid) for d in result.redeliver] == [(2, "a"), (4, "c")]
    assert (result.missing, result.stored, result.failed_but_stored) == (2, 1, 0)


def test_a_stored_guid_is_never_asked_for_even_when_github_lists_it_failed():
    result = decide([Row(1, "a", status_code=504), Row(2, "b", status_code=200)], stored={"a", "b"})
    assert result.redeliver == ()
    assert (result.failed_but_stored, result.stored, result.missing) == (1, 1, 0)


def test_a_successful_delivery_we_never_stored_is_asked_for():
    assert [d.guid for d in decide([Row(5, "x", status_code=200)]).redeliver] == ["x"]


def test_a_redelivery_on_its_way_is_not_asked_for_again():
    asked = {"a": Asked(1, NOW - timedelta(seconds=10), newest_id_then=7)}
    result = decide([Row(3, "a")], asked=asked)
    assert (result.redeliver, result.waiting) == ((), 1)


def test_a_redelivery_that_failed_again_is_asked_for_at_once():
    asked = {"a": Asked(1, NOW - timedelta(seconds=10), newest_id_then=7)}
    result = decide([Row(3, "a"), Row(9, "a")], asked=asked)
    assert [d.id for d in result.redeliver] == [9]


def test_a_request_never_attempted_is_asked_for_again_after_the_retry_time():
    asked = {"a": Asked(1, NOW - timedelta(seconds=301), newest_id_then=7)}
    assert [d.id for d in decide([Row(3, "a")], asked=asked).redeliver] == [3]


def test_after_the_last_attempt_the_guid_is_given_up():
    asked = {"a": Asked(3, NOW - timedelta(hours=1), newest_id_then=7)}
    result = decide([Row(3, "a"), Row(9, "a")], asked=asked)
    assert (result.redeliver, result.gave_up, result.missing) == ((), 1, 1)


def test_the_look_back_window_keeps_recent_and_unreadable_timestamps():
    rows = [Row(1, "old", delivered_at="2026-11-25T10:00:00Z"), Row(2, "new"), Row(3, "odd", delivered_at="")]
    assert [r.guid for r in within(rows, NOW - timedelta(minutes=30))] == ["new", "odd"]
