"""What a run is asked to do and what it yields: output lines while it runs, one result at the end."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from rig_contracts.payloads import Usage

COST_BASIS = "api-equivalent"
"""Both costs are what the tokens would cost at API list prices, whatever plan actually pays for them."""


@dataclass(frozen=True, slots=True)
class Limits:
    """When to stop a run: more model turns, wall seconds or (estimated) dollars than these. None: no limit."""

    max_turns: int | None = None
    max_seconds: float | None = None
    max_cost_usd: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RunRequest:
    """One run of a coding CLI in `workdir`.

    The `prompt` is given on stdin, never as one argv element (a long one would not fit the kernel's limit, E2BIG).
    `session_id` resumes that provider session instead of starting a new one. `env` is passed to the process
    as it is; `secrets` too, but their values are also redacted from every line the run yields. `stop`, when
    set by the caller, stops the run (its process group is killed) and still yields a result.
    """

    prompt: str
    workdir: Path
    session_id: str | None = None
    model: str | None = None
    limits: Limits = field(default_factory=Limits)
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    stop: asyncio.Event | None = None
    read_only: bool = False
    """The run only reads the prompt and answers (Review-E): the CLI is started with no tools at all."""


class StopReason(StrEnum):
    """Why a run ended."""

    COMPLETED = "completed"
    """The CLI exited by itself."""
    TURN_LIMIT = "turn_limit"
    TIME_LIMIT = "time_limit"
    COST_LIMIT = "cost_limit"
    STOPPED = "stopped"
    """The caller asked it to stop."""


@dataclass(frozen=True, slots=True)
class OutputLine:
    """One line the CLI printed, secrets redacted: for the live log."""

    text: str
    stream: Literal["stdout", "stderr"] = "stdout"


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended, billed for this run's own part only (a resumed session's earlier runs excluded).

    `usage` holds four separate buckets (cache tokens never inside `input_tokens`). `provider_cost_usd` is
    the CLI's own figure where it gives one; `cost_usd` ours, from `price_source`; None means unpriced, never
    $0. Both are API-equivalent (`cost_basis`).
    """

    provider: str
    model: str | None
    session_id: str | None
    turns: int
    usage: Usage
    duration_ms: int
    cost_usd: Decimal | None
    provider_cost_usd: Decimal | None
    price_source: str
    is_error: bool
    stop_reason: StopReason
    exit_code: int | None
    final_text: str = ""
    permission_denials: tuple[Mapping[str, Any], ...] = ()
    resumed: bool = False
    duration_api_ms: int = 0
    cost_basis: str = COST_BASIS


ProviderEvent = OutputLine | RunResult
"""What `Provider.run` yields: output lines, then exactly one RunResult."""


def add_usage(a: Usage, b: Usage) -> Usage:
    """The sum of two usages, bucket by bucket."""
    return Usage(input_tokens=a.input_tokens + b.input_tokens, output_tokens=a.output_tokens + b.output_tokens,
                 cache_read_tokens=a.cache_read_tokens + b.cache_read_tokens,
                 cache_write_tokens=a.cache_write_tokens + b.cache_write_tokens)


def subtract_usage(total: Usage, earlier: Usage) -> Usage:
    """What `total` adds to `earlier` (a resumed session's totals less its earlier runs), never below zero."""
    return Usage(input_tokens=max(0, total.input_tokens - earlier.input_tokens),
                 output_tokens=max(0, total.output_tokens - earlier.output_tokens),
                 cache_read_tokens=max(0, total.cache_read_tokens - earlier.cache_read_tokens),
                 cache_write_tokens=max(0, total.cache_write_tokens - earlier.cache_write_tokens))
