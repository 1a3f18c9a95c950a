"""A folder of recorded runs: each run replays the one recorded for its attempt or review round."""

from decimal import Decimal

import pytest

from rig_agent.providing import Totals, recorded_transcript
from rig_agent.runtime import DEMO_BOOK
from rig_contracts.payloads import Usage
from rig_providers.model import RunResult, StopReason


def test_the_run_number_picks_its_recording_or_the_last_one_before_it(tmp_path):
    for name in ("dev-1.jsonl", "dev-3.jsonl", "review-2.jsonl", "dev-notes.jsonl"):
        (tmp_path / name).write_text("")
    assert [recorded_transcript(tmp_path, "dev", n).name for n in (1, 2, 3, 9)] == \
        ["dev-1.jsonl", "dev-1.jsonl", "dev-3.jsonl", "dev-3.jsonl"]
    assert recorded_transcript(tmp_path, "review", 1).name == "review-2.jsonl"
    with pytest.raises(ValueError, match=r"no build-N\.jsonl"):
        recorded_transcript(tmp_path, "build", 1)


def test_the_demo_records_two_rounds_of_each():
    assert [recorded_transcript(DEMO_BOOK, kind, n).name for kind in ("dev", "review") for n in (1, 2)] == \
        ["dev-1.jsonl", "dev-2.jsonl", "review-1.jsonl", "review-2.jsonl"]


def result(cost: Decimal | None, provider_cost: Decimal | None) -> RunResult:
    return RunResult(provider="claude", model="m", session_id="s", turns=2, usage=Usage(input_tokens=10),
                     duration_ms=5, cost_usd=cost, provider_cost_usd=provider_cost, price_source="t",
                     is_error=False, stop_reason=StopReason.COMPLETED, exit_code=0)


def test_one_unpriced_provider_run_leaves_the_whole_run_unpriced_never_cheaper():
    totals = Totals()
    totals.add(result(Decimal("0.5"), Decimal("0.4")))
    totals.add(result(None, Decimal("0.1")))
    data = totals.as_data()
    assert data["cost_usd"] is None and data["provider_cost_usd"] == pytest.approx(0.5)
    assert data["turns"] == 4 and data["usage"] == Usage(input_tokens=20).model_dump()
