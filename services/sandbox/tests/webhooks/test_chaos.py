"""Seeded chaos: the same seed and the same events give the same deliveries; another seed, other ones."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[2] / "src"))  # until rig-sandbox is installed in the venv

from webhooks_support import SECRET, Receiver, serve

from rig_sandbox.webhooks import ChaosDecision, Dispatcher, WebhookSettings

EVENTS = 40
CHAOS: dict[str, Any] = {"sandbox_chaos_late": 0.2, "sandbox_chaos_late_max_s": 0.05, "sandbox_chaos_reorder": 0.2,
         "sandbox_chaos_duplicate": 0.15, "sandbox_chaos_drop": 0.1}


async def run(seed: int, data_dir: Path) -> tuple[list[ChaosDecision], list[int], list[tuple[int, str]], int]:
    """Emit the same events through a dispatcher with this seed; return its decisions and what arrived."""
    got = Receiver()
    async with serve(got.app()) as base_url:
        settings = WebhookSettings(sandbox_webhook_url=f"{base_url}/webhooks/github",
                                   sandbox_webhook_secret=SecretStr(SECRET), sandbox_chaos_seed=seed, **CHAOS)
        dispatcher = Dispatcher(settings, data_dir)
        await dispatcher.start()
        try:
            for n in range(EVENTS):
                dispatcher.emit("issues", {"action": "labeled", "n": n, "repository": {"id": 1}})
            await dispatcher.wait_idle()
            failed = len(dispatcher.deliveries(status="failure", limit=100))
            decisions = dispatcher.decisions()
        finally:
            await dispatcher.stop()
    assert all(r.signature_ok for r in got.received)
    return decisions, [r.payload["n"] for r in got.received], [(r.payload["n"], r.guid) for r in got.received], failed


def expected_arrivals(decisions: list[ChaosDecision]) -> list[int]:
    """What a receiver should see, by the rules the decisions document."""
    arrivals: list[int] = []
    i = 0
    while i < len(decisions):
        group = [decisions[i + 1], decisions[i]] if decisions[i].swap_with_next and i + 1 < len(decisions) else [
            decisions[i]]
        i += len(group)
        for decision in group:
            if not decision.drop:
                arrivals += [decision.index] * (2 if decision.duplicate else 1)
    return arrivals


async def test_the_same_seed_gives_the_same_deliveries_and_another_seed_other_ones(tmp_path: Path) -> None:
    decisions, arrivals, with_guids, failed = await run(7, tmp_path / "a")
    again_decisions, again_arrivals, _, again_failed = await run(7, tmp_path / "b")
    other_decisions, other_arrivals, _, _ = await run(8, tmp_path / "c")

    effects = {effect for decision in decisions for effect in decision.effects}
    assert effects == {"drop", "duplicate", "swap_with_next", "late"}  # this seed shows every kind of chaos
    assert again_decisions == decisions and again_arrivals == arrivals and again_failed == failed
    assert arrivals == expected_arrivals(decisions)
    assert arrivals != list(range(EVENTS))
    dropped = [d.index for d in decisions if d.drop]
    assert failed == len(dropped) and not set(dropped) & set(arrivals)  # dropped: recorded failed, never sent
    duplicated = [d.index for d in decisions if d.duplicate]
    for n in duplicated:
        guids = [guid for m, guid in with_guids if m == n]
        assert len(guids) == 2 and guids[0] == guids[1]  # a duplicate carries the same GUID
    assert other_decisions != decisions and other_arrivals != arrivals
    assert other_arrivals == expected_arrivals(other_decisions)


def test_decisions_depend_only_on_the_seed_and_the_sequence() -> None:
    def decide(seed: int | None) -> list[ChaosDecision]:
        from rig_sandbox.webhooks.chaos import DeliveryChaos

        chaos = DeliveryChaos(WebhookSettings(sandbox_chaos_seed=seed, **CHAOS))
        return [chaos.decide("issues.labeled") for _ in range(200)]

    first = decide(3)
    assert first == decide(3) != decide(4)
    assert not any(a.swap_with_next and b.swap_with_next for a, b in itertools.pairwise(first))
    assert all(0 <= d.late_s <= 0.05 for d in first)
    assert all(not (d.drop and (d.duplicate or d.swap_with_next or d.late_s)) for d in first)
    assert all(d.effects == () for d in decide(None))
