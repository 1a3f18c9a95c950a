"""One provider run inside an agent run: its lines to the live log, its result and its cost to the run's totals."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from rig_agent.runs import RunRecord
from rig_contracts.payloads import Usage
from rig_providers.model import Limits, OutputLine, RunRequest, RunResult, StopReason, add_usage
from rig_providers.provider import Provider
from rig_providers.scripted import ScriptedProvider


class ProviderFailedError(RuntimeError):
    """The provider ran but gave no usable result (an error, a limit hit, no output)."""


class AllowanceSpentError(ProviderFailedError):
    """The run spent the allowance its reservation gave it: its provider was stopped (or not started again)."""


@dataclass(slots=True)
class Totals:
    """What the provider runs of one agent run add up to."""

    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: Decimal | None = Decimal(0)
    provider_cost_usd: Decimal | None = None
    duration_api_ms: int = 0
    allowance_usd: Decimal | None = None
    """The most the run may spend (its reservation); None: no cap."""

    def left_usd(self) -> Decimal | None:
        """What the run may still spend; None: no cap."""
        if self.allowance_usd is None:
            return None
        return self.allowance_usd - (self.cost_usd or Decimal(0))

    def add(self, result: RunResult) -> None:
        """Count one provider run (an unpriced one makes the whole run unpriced, never cheaper)."""
        self.turns += result.turns
        self.usage = add_usage(self.usage, result.usage)
        self.cost_usd = None if self.cost_usd is None or result.cost_usd is None else self.cost_usd + result.cost_usd
        if result.provider_cost_usd is not None:
            self.provider_cost_usd = (self.provider_cost_usd or Decimal(0)) + result.provider_cost_usd
        self.duration_api_ms += result.duration_api_ms

    def as_data(self) -> dict[str, object]:
        """RUN_FINISHED's usage and cost fields."""
        return {"turns": self.turns, "usage": self.usage.model_dump(),
                "cost_usd": float(self.cost_usd) if self.cost_usd is not None else None,
                "provider_cost_usd": float(self.provider_cost_usd) if self.provider_cost_usd is not None else None,
                "duration_api_ms": self.duration_api_ms}


@dataclass(frozen=True, slots=True)
class ProviderSetup:
    """Which provider and model an agent uses, its limits and the secrets its CLI needs.

    With a `book` (a folder of recorded transcripts), each run replays the one recorded for it instead.
    """

    provider: Provider
    model: str | None
    limits: Limits
    secrets: dict[str, str]
    book: Path | None = None

    def provider_for(self, kind: str, number: int) -> Provider:
        """The provider of a `kind` ("dev", "review") run, the `number`th of its work item."""
        if self.book is None:
            return self.provider
        return ScriptedProvider(recorded_transcript(self.book, kind, number), prices=self.provider.prices,
                                sandbox=self.provider.sandbox)


def recorded_transcript(book: Path, kind: str, number: int) -> Path:
    """`{kind}-{n}.jsonl` of `book` for the `number`th run: the highest n not above it (else the first)."""
    recorded = sorted(int(n) for p in book.glob(f"{kind}-*.jsonl") if (n := p.stem.removeprefix(f"{kind}-")).isdigit())
    if not recorded:
        raise ValueError(f"{book} holds no {kind}-N.jsonl transcript")
    chosen = max((n for n in recorded if n <= number), default=recorded[0])
    return book / f"{kind}-{chosen}.jsonl"


async def run_provider(setup: ProviderSetup, provider: Provider, record: RunRecord, totals: Totals, prompt: str,
                       workdir: Path, session_id: str | None, *, read_only: bool = False) -> RunResult:
    """Run the provider once; every line goes to the live log, the result is counted and returned.

    `read_only` starts the CLI with no tools at all (Review-E only reads the prompt and answers). A run with an
    allowance gives its provider only what is left of it, and AllowanceSpentError says so when it ran out.
    """
    limits, left = setup.limits, totals.left_usd()
    if left is not None:
        if left <= 0:
            raise AllowanceSpentError(f"the run spent its allowance of ${totals.allowance_usd:.2f}: "
                                      "no further provider call")
        capped = left if limits.max_cost_usd is None else min(left, limits.max_cost_usd)
        limits = replace(limits, max_cost_usd=capped)
    request = RunRequest(prompt=prompt, workdir=workdir, session_id=session_id, model=setup.model,
                         limits=limits, secrets=setup.secrets, read_only=read_only)
    result: RunResult | None = None
    async for item in provider.run(request):
        if isinstance(item, OutputLine):
            await record.line(item.text, "error" if item.stream == "stderr" else "info")
        else:
            result = item
    if result is None:
        raise ProviderFailedError(f"{provider.name} ended without a result")
    totals.add(result)
    await record.step("provider", "failed" if result.is_error else "succeeded",
                      f"{result.stop_reason}: {result.final_text[-1500:]}", turns=result.turns, usage=result.usage,
                      cost_usd=float(result.cost_usd) if result.cost_usd is not None else None)
    if result.stop_reason == StopReason.COST_LIMIT and left is not None and limits.max_cost_usd == left:
        raise AllowanceSpentError(f"stopped: the run reached its allowance of ${totals.allowance_usd:.2f} "
                                  f"(spent ${totals.cost_usd or 0:.2f}); a budget set it: see GET /api/costs")
    return result
