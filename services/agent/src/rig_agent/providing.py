"""One provider run inside an agent run: its lines to the live log, its result and its cost to the run's totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rig_agent.runs import RunRecord
from rig_contracts.payloads import Usage
from rig_providers.model import Limits, OutputLine, RunRequest, RunResult, add_usage
from rig_providers.provider import Provider
from rig_providers.scripted import ScriptedProvider


class ProviderFailedError(RuntimeError):
    """The provider ran but gave no usable result (an error, a limit hit, no output)."""


@dataclass(slots=True)
class Totals:
    """What the provider runs of one agent run add up to."""

    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: Decimal | None = Decimal(0)
    provider_cost_usd: Decimal | None = None
    duration_api_ms: int = 0

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

    `read_only` starts the CLI with no tools at all (Review-E only reads the prompt and answers).
    """
    request = RunRequest(prompt=prompt, workdir=workdir, session_id=session_id, model=setup.model,
                         limits=setup.limits, secrets=setup.secrets, read_only=read_only)
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
    return result
