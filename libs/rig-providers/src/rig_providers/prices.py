"""Our API-equivalent cost of a run, from the `genai-prices` package's price table (a versioned snapshot).

The package carries input, output, cache-read and cache-write rates per model and provider, maintained
upstream; we use the snapshot bundled with the installed version (never its network update), so a cost is
reproducible from `PriceTable.source`. A model the table does not know is unpriced: None, never $0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import genai_prices

from rig_contracts.payloads import Usage

PriceProvider = Literal["anthropic", "openai"]
"""Whose list prices apply (genai-prices provider ids)."""


class PriceTable:
    """Prices tokens for a model of one provider; `source` names the table and its version."""

    def __init__(self) -> None:
        self.source = f"genai-prices {genai_prices.__version__}"

    def cost_usd(self, provider: PriceProvider, model: str | None, usage: Usage) -> Decimal | None:
        """What `usage` costs at `model`'s list prices, or None when the model is unknown (unpriced)."""
        if not model:
            return None
        # genai-prices counts cache tokens inside input_tokens (OpenAI's way); ours are separate buckets.
        priced = genai_prices.Usage(
            input_tokens=usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            output_tokens=usage.output_tokens,
        )
        try:
            calculation = genai_prices.calc_price(priced, model, provider_id=provider)
        except LookupError:
            return None
        return Decimal(calculation.total_price)
