"""Our price table: genai-prices' rates per bucket, linear over a run's requests, unknown models unpriced."""

from __future__ import annotations

from decimal import Decimal

from rig_contracts.payloads import Usage
from rig_providers.prices import PriceTable, base_rates

MTOK = Decimal(1_000_000)


def test_sonnet_has_its_four_list_rates() -> None:
    rates = base_rates("anthropic", "claude-sonnet-4-5")
    assert rates is not None
    assert (rates.input * MTOK, rates.output * MTOK, rates.cache_read * MTOK, rates.cache_write * MTOK) == (
        Decimal(3), Decimal(15), Decimal("0.3"), Decimal("3.75"))


def test_the_codex_default_model_has_a_cache_read_rate_below_its_input_rate() -> None:
    rates = base_rates("openai", "gpt-6.1-sol")
    assert rates is not None and 0 < rates.cache_read < rates.input


def test_a_run_summed_over_requests_is_priced_at_base_rates_not_a_long_context_tier() -> None:
    # Three requests of 150k input tokens each: none is past Sonnet's 200k tier, their sum is.
    usage = Usage(input_tokens=450_000, output_tokens=3_000)
    assert PriceTable().cost_usd("anthropic", "claude-sonnet-4-5", usage) == Decimal("1.35") + Decimal("0.045")


def test_an_unknown_model_is_unpriced_never_free() -> None:
    table = PriceTable()
    assert table.cost_usd("openai", "no-such-model-9", Usage(input_tokens=10)) is None
    assert table.cost_usd("anthropic", None, Usage(input_tokens=10)) is None
    assert table.source.startswith("genai-prices ")
