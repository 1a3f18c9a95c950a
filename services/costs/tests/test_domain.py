"""The pure rules: whose prices apply, unpriced never $0, the 1% gap, step numbers, cursors."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from rig_contracts.payloads import Usage
from rig_costs.domain import Cursor, Pricing, cost_gap, money, price_provider, step_position


def test_a_run_is_priced_at_its_providers_list_prices_and_an_unknown_model_is_unpriced():
    pricing = Pricing()
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000,
                  cache_write_tokens=1_000_000)
    assert pricing.price("claude", "claude-sonnet-4-5", usage).usd == Decimal("22.05")  # 3 + 15 + 0.30 + 3.75
    assert pricing.price("codex", "gpt-5-codex", usage).usd == Decimal("12.625")  # 1.25 + 10 + 0.125 + 1.25
    unknown = pricing.price("claude", "mystery-model-9", usage)
    assert unknown.usd is None and unknown.source.startswith("genai-prices ")
    assert pricing.price("claude", "claude-sonnet-4-5", Usage()).usd == 0, "no tokens cost $0, priced"


def test_whose_prices_come_from_the_provider_else_from_the_model():
    assert price_provider("claude", "anything") == "anthropic"
    assert price_provider("Codex", "") == "openai"
    assert price_provider("scripted", "gpt-5") == "openai"
    assert price_provider("scripted", "claude-sonnet-4-5") == "anthropic"
    assert price_provider("scripted", "mystery-model-9") is None
    assert price_provider("", "") is None


@pytest.mark.parametrize(("ours", "theirs", "flagged"), [
    (Decimal("1.00"), Decimal("1.01"), False), (Decimal("1.00"), Decimal("1.02"), True),
    (Decimal("1.02"), Decimal("1.00"), True), (None, Decimal(1), False), (Decimal(1), None, False),
    (Decimal(0), Decimal(0), False), (Decimal("0.01"), Decimal(0), True)])
def test_a_gap_over_one_percent_of_the_providers_figure_is_flagged(ours, theirs, flagged):
    assert cost_gap(ours, theirs) is flagged


def test_steps_are_numbered_by_their_key_and_cursors_round_trip():
    assert step_position("run:abc:step:12", 3) == 12
    assert step_position("something-else", 3) == 3
    cursor = Cursor(datetime(2026, 11, 2, 9, 0, tzinfo=UTC), "run|with|bars")
    assert Cursor.decode(cursor.encode()) == cursor
    with pytest.raises(ValueError, match="next_cursor"):
        Cursor.decode("%%%")
    assert money(Decimal("1.2300")) == "1.23" and money(Decimal("1E-7")) == "0.0000001" and money(None) is None
