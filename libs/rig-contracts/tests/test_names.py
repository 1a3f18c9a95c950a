"""Names: every Valkey name sits under the installation's prefix."""

from __future__ import annotations

import inspect

import pytest

from rig_contracts import Names


def every_name(names: Names) -> dict[str, str]:
    """Each name `names` makes, with sample arguments for the ones that take some."""
    made = {"events": names.events, "dead": names.dead, "runlogs": names.runlogs}
    made |= {
        "replay": names.replay("costs"), "assignments": names.assignments("dev-e-node"),
        "signal": names.signal("dev-e-node"), "busy": names.busy("dev-e-node"),
        "session": names.session("acme/shop", 12), "published": names.published("e1"),
        "logs": names.logs("dev-e-node"), "errors": names.errors("rig:events", "router"), "revoked": names.revoked(),
    }
    return made


def test_every_name_is_covered() -> None:
    public = {name for name, _ in inspect.getmembers(Names) if not name.startswith("_") and name != "prefix"}
    assert public == set(every_name(Names()))


def test_names_without_a_prefix_are_those_of_the_design() -> None:
    assert every_name(Names()) == {
        "events": "rig:events", "dead": "rig:dead", "runlogs": "runlogs", "replay": "rig:replay:costs",
        "assignments": "assignments:dev-e-node", "signal": "signal:dev-e-node", "busy": "busy:dev-e-node",
        "session": "session:acme/shop#12", "published": "published:e1", "logs": "logs:dev-e-node",
        "errors": "rig:errors:rig:events:router", "revoked": "rig:revoked",
    }


@pytest.mark.parametrize("prefix", ["test:1a2b:", "prod-eu:"])
def test_every_name_starts_with_the_prefix(prefix: str) -> None:
    plain, prefixed = every_name(Names()), every_name(Names(prefix))

    assert prefixed == {what: prefix + name for what, name in plain.items()}


def test_names_are_values() -> None:
    assert Names("a:") == Names("a:")
    with pytest.raises(AttributeError):
        Names("a:").prefix = "b:"  # type: ignore[misc]
