"""Upcasting: old `data` shapes are lifted step by step; versions newer than this code are refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rig_contracts import EventVersionError, parse_event
from rig_contracts.catalogue import IssueAssignedEvent
from rig_contracts.parsing import CURRENT_VERSIONS
from rig_contracts.upcasting import UPCASTERS, upcast, upcaster

ASSIGNED_V1: dict[str, Any] = {
    "id": "01a0b5c4-5f3e-7a00-8000-000000000001", "type": "ISSUE_ASSIGNED", "v": 1,
    "at": "2025-06-01T10:00:00Z", "source": "router", "subject": "acme/shop#12", "key": "assign:acme/shop#12:1",
    "correlation_id": None, "causation_id": None,
    "data": {"repo": "acme/shop", "number": 12, "agent_id": "dev-e-node", "stack": "node", "assignment_id": "asg-1"},
}
"""An ISSUE_ASSIGNED as v1 producers wrote it: the pool under `agent_id`, no `attempt`."""


def test_issue_assigned_is_written_at_v2() -> None:
    assert CURRENT_VERSIONS["ISSUE_ASSIGNED"] == 2
    assert all(version == 1 for kind, version in CURRENT_VERSIONS.items() if kind != "ISSUE_ASSIGNED")


def test_a_v1_assignment_reads_as_v2() -> None:
    original = copy.deepcopy(ASSIGNED_V1)

    event = parse_event(ASSIGNED_V1)

    assert isinstance(event, IssueAssignedEvent)
    assert event.v == 2
    assert (event.data.agent, event.data.attempt) == ("dev-e-node", 1)
    assert event.id == ASSIGNED_V1["id"]
    assert original == ASSIGNED_V1, "upcasting must not change what it was given"
    assert '"agent_id"' not in event.to_json()


def test_an_event_without_a_version_is_v1() -> None:
    raw = {key: value for key, value in ASSIGNED_V1.items() if key != "v"}

    assert parse_event(raw).v == 2


def test_a_v2_assignment_is_left_as_it_is() -> None:
    raw = {**ASSIGNED_V1, "v": 2, "data": {**ASSIGNED_V1["data"], "agent": "dev-e-python", "attempt": 3}}
    del raw["data"]["agent_id"]

    event = parse_event(raw)

    assert isinstance(event, IssueAssignedEvent)
    assert (event.data.agent, event.data.attempt) == ("dev-e-python", 3)


def test_a_newer_version_than_known_is_refused() -> None:
    raw = {**ASSIGNED_V1, "v": 3}

    with pytest.raises(EventVersionError, match=r"ISSUE_ASSIGNED v3 is newer than this code knows \(v2\).*upgrade"):
        parse_event(raw)


@pytest.mark.parametrize("version", [0, -1, "2", 1.5, True, None])
def test_a_version_that_is_not_a_whole_number_from_1_is_refused(version: object) -> None:
    with pytest.raises(EventVersionError, match="`v` must be a whole number"):
        parse_event({**ASSIGNED_V1, "v": version})


def test_a_missing_upcaster_is_named() -> None:
    with pytest.raises(EventVersionError, match="no upcaster for LEGACY v1 → v2"):
        upcast({"type": "LEGACY", "v": 1, "data": {}}, 2)


def test_upcasters_run_one_version_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(UPCASTERS, ("LEGACY", 1), lambda data: {**data, "steps": [*data["steps"], "1→2"]})
    monkeypatch.setitem(UPCASTERS, ("LEGACY", 2), lambda data: {**data, "steps": [*data["steps"], "2→3"]})

    lifted = upcast({"type": "LEGACY", "v": 1, "data": {"steps": []}}, 3)

    assert lifted == {"type": "LEGACY", "v": 3, "data": {"steps": ["1→2", "2→3"]}}


def test_two_upcasters_for_one_step_are_refused() -> None:
    with pytest.raises(ValueError, match="two upcasters for ISSUE_ASSIGNED v1"):
        upcaster("ISSUE_ASSIGNED", 1)(lambda data: data)
