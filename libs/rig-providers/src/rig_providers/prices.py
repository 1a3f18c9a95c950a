"""Our API-equivalent cost of a run, from the `genai-prices` package's price table (a versioned snapshot).

The package carries input, output, cache-read and cache-write rates per model and provider, maintained
upstream; we use the snapshot bundled with the installed version (never its network update), so a cost is
reproducible from `PriceTable.source`. A model the table does not know is unpriced: None, never $0.

A run's usage adds up many requests, so it is priced linearly at the model's base rates: handing the sum to
genai-prices would cross a long-context tier (Sonnet's above 200k input tokens) that no single request did.
The CLIs' context windows keep each request below those tiers, so base rates are the rates every request paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal

import genai_prices

from rig_contracts.payloads import Usage

PriceProvider = Literal["anthropic", "openai"]
"""Whose list prices apply (genai-prices provider ids)."""


# Tokens per bucket used to read a base rate: far below every long-context tier.
_PROBE = 1000


@dataclass(frozen=True, slots=True)
class Rates:
    """A model's base price per token of each bucket, in dollars."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal


class PriceTable:
    """Prices tokens for a model of one provider; `source` names the table and its version."""

    def __init__(self) -> None:
        self.source = f"genai-prices {genai_prices.__version__}"

    def cost_usd(self, provider: PriceProvider, model: str | None, usage: Usage) -> Decimal | None:
        """What `usage` costs at `model`'s list prices, or None when the model is unknown (unpriced)."""
        rates = base_rates(provider, model) if model else None
        if rates is None:
            return None
        return (usage.input_tokens * rates.input + usage.output_tokens * rates.output
                + usage.cache_read_tokens * rates.cache_read + usage.cache_write_tokens * rates.cache_write)


@lru_cache(maxsize=256)
def base_rates(provider: PriceProvider, model: str) -> Rates | None:
    """The model's per-token rates from genai-prices, or None when it does not know the model."""
    try:
        return Rates(
            input=_price(provider, model, input_tokens=_PROBE),
            output=_price(provider, model, output_tokens=_PROBE),
            cache_read=_price(provider, model, input_tokens=_PROBE, cache_read_tokens=_PROBE),
            cache_write=_price(provider, model, input_tokens=_PROBE, cache_write_tokens=_PROBE))
    except LookupError:
        return None


def _price(provider: PriceProvider, model: str, **tokens: int) -> Decimal:
    # genai-prices counts cache tokens inside input_tokens (OpenAI's way): a probe of cache tokens alone
    # therefore also names them as input.
    calculation = genai_prices.calc_price(genai_prices.Usage(**tokens), model, provider_id=provider)
    return Decimal(calculation.total_price) / _PROBE
