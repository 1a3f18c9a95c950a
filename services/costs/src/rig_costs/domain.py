"""Pure rules of the cost tracker: whose prices apply, our figure beside the provider's, cursors and groupings.

Our cost is recomputed with `rig_providers.prices` (the agents' own price code, `genai-prices`' bundled table), so a
run is priced the same way whether it came from our agent or from the public runtime through ingest. A model the
table does not know is unpriced (None), never $0.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from rig_contracts.payloads import Usage
from rig_providers.prices import PriceProvider, PriceTable, base_rates

GAP_RATIO = Decimal("0.01")
"""Our figure and the provider's may differ by this much before the run is flagged."""

PROVIDERS: dict[str, PriceProvider] = {"claude": "anthropic", "claude-code": "anthropic", "anthropic": "anthropic",
                                       "codex": "openai", "openai": "openai"}
"""Whose list prices apply to a run of each provider (the scripted provider and the runtime's others: by model)."""

GroupBy = Literal["agent", "issue", "repo", "model", "step", "day", "status"]
GROUPS: tuple[GroupBy, ...] = ("agent", "issue", "repo", "model", "step", "day", "status")
"""What `GET /api/costs` can group by (`status`: what failed or escalated work cost beside what succeeded)."""

_STEP_KEY = re.compile(r":step:(?P<n>[0-9]+)$")


@dataclass(frozen=True, slots=True)
class Priced:
    """Our cost of some usage and the table it came from; `usd` None when unpriced."""

    usd: Decimal | None
    source: str


class Pricing:
    """Prices usage for a provider's model with one price table."""

    def __init__(self, table: PriceTable | None = None) -> None:
        self.table = table or PriceTable()

    @property
    def source(self) -> str:
        """The price table's name and version, stored beside every figure."""
        return self.table.source

    def price(self, provider: str, model: str, usage: Usage) -> Priced:
        """Our API-equivalent cost of `usage` at `model`'s list prices; unpriced when the model is unknown."""
        whose = price_provider(provider, model)
        usd = self.table.cost_usd(whose, model, usage) if whose is not None else None
        return Priced(usd, self.source)


def price_provider(provider: str, model: str) -> PriceProvider | None:
    """Whose list prices apply: by the run's provider, else whichever table knows the model, else None."""
    known = PROVIDERS.get(provider.strip().lower())
    if known is not None:
        return known
    if not model:
        return None
    candidates: tuple[PriceProvider, ...] = ("anthropic", "openai")
    return next((c for c in candidates if base_rates(c, model) is not None), None)


def cost_gap(ours: Decimal | None, theirs: Decimal | None) -> bool:
    """Whether our figure and the provider's differ by more than 1% of the provider's (both must be known)."""
    if ours is None or theirs is None:
        return False
    if theirs == 0:
        return ours != 0
    return abs(ours - theirs) > GAP_RATIO * theirs


def decimal_or_none(value: float | None) -> Decimal | None:
    """An event's float dollars as an exact Decimal of its shortest text (0.1 stays 0.1)."""
    return None if value is None else Decimal(str(value))


def step_position(key: str, fallback: int) -> int:
    """A RUN_STEP's number from its key (`run:{id}:step:{n}`), else `fallback` (its arrival order)."""
    found = _STEP_KEY.search(key)
    return int(found["n"]) if found else fallback


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page of runs ends: the last run's start and id (runs are listed newest first)."""

    started_at: datetime
    run_id: str

    def encode(self) -> str:
        """The opaque text a client passes back as `cursor`."""
        raw = f"{self.started_at.isoformat()}|{self.run_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor a page gave out; ValueError for text that is not one."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            started, run_id = raw.split("|", 1)
            return cls(datetime.fromisoformat(started), run_id)
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise ValueError(f"cursor {text!r} is not one a page of /api/runs gave out: pass its `next_cursor` "
                             "as is, or drop `cursor` to start from the newest run") from error


def money(value: Decimal | None) -> str | None:
    """Dollars as the API shows them: exact text (JSON numbers would round), None when unpriced."""
    return None if value is None else format(value.normalize(), "f")


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV with a header line; a missing or None value is an empty cell (unpriced stays empty, not 0)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return out.getvalue()


def cache_hit_rate(input_tokens: int, cache_read_tokens: int, cache_write_tokens: int) -> float | None:
    """Share of all input tokens read from the prompt cache; None when there was no input."""
    total = input_tokens + cache_read_tokens + cache_write_tokens
    return None if total == 0 else cache_read_tokens / total
