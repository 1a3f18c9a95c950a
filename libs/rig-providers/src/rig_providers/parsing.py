"""What each provider's output parser keeps while a run goes on, and the base all parsers share."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any

from rig_contracts.payloads import Usage
from rig_providers.model import RunResult, StopReason
from rig_providers.prices import PriceProvider, PriceTable
from rig_providers.redact import Redactor


class StreamParser(ABC):
    """Reads a CLI's JSON output lines as they come; knows the turns and an estimate of the cost so far."""

    provider: str
    price_provider: PriceProvider

    def __init__(self, prices: PriceTable, model: str | None, *, resumed: bool) -> None:
        self.prices = prices
        self.model = model
        self.resumed = resumed
        self.turns = 0
        self.session_id: str | None = None
        self.final_text = ""

    @abstractmethod
    def feed(self, line: str) -> None:
        """Take one stdout line (lines that are not JSON objects are only logged, never parsed)."""

    @abstractmethod
    def running_usage(self) -> Usage:
        """The tokens seen so far in this run (an estimate until the final line comes)."""

    @abstractmethod
    def result(self, reason: StopReason, exit_code: int | None, duration_ms: int, redactor: Redactor) -> RunResult:
        """The run's result once the process has ended."""

    def estimated_cost_usd(self) -> Decimal | None:
        """Our cost of the tokens seen so far, for the cost limit; None while the model is unpriced."""
        return self.prices.cost_usd(self.price_provider, self.model, self.running_usage())


def json_object(line: str) -> dict[str, Any] | None:
    """The line as a JSON object, or None when it is anything else (a warning, a progress line)."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def as_int(value: object) -> int:
    """A token count from JSON; anything missing or malformed counts as 0."""
    return value if isinstance(value, int) and value > 0 else 0
