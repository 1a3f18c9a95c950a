"""The scripted provider: replays a recorded transcript and applies its recorded patch, as a real subprocess.

For fast tests and the demo: the same interface, process handling, limits and redaction as the coding CLIs,
without a model. The transcript format is in `rig_providers.scripted.transcript`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rig_contracts.payloads import Usage
from rig_providers.model import RunRequest, RunResult, StopReason, add_usage
from rig_providers.parsing import StreamParser, json_object
from rig_providers.provider import Launch, Provider, base_env
from rig_providers.redact import Redactor
from rig_providers.sandbox import python_paths


class ScriptedProvider(Provider):
    """Replays `transcript` with `python -m rig_providers.scripted` in the run's working directory."""

    name = "scripted"

    def __init__(self, transcript: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transcript = transcript

    async def launch(self, request: RunRequest) -> Launch:
        """The player's command (`--session` keeps a resumed session's id)."""
        argv = [sys.executable, "-m", "rig_providers.scripted", str(self.transcript.resolve())]
        if request.session_id:
            argv += ["--session", request.session_id]
        if request.read_only:
            argv.append("--no-tools")
        parser = ScriptedStream(self.prices, request.model, resumed=request.session_id is not None)
        return Launch(argv, base_env(request, PYTHONUNBUFFERED="1"), parser,
                      readable=[*python_paths("rig_providers", "rig_contracts"), self.transcript.resolve()])


class ScriptedStream(StreamParser):
    """Reads the player's JSON lines: session, turn (with usage), patch, result."""

    provider = "scripted"
    price_provider = "anthropic"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._usage = Usage()
        self._result: Mapping[str, Any] | None = None

    def feed(self, line: str) -> None:
        """Take one line of the player's output."""
        event = json_object(line)
        if event is None:
            return
        kind = event.get("type")
        if kind == "session":
            self.session_id = event.get("session_id")
            self.model = self.model or event.get("model")
            self.price_provider = event.get("price_provider", self.price_provider)
        elif kind == "turn":
            self.turns += 1
            self._usage = add_usage(self._usage, Usage.model_validate(event.get("usage") or {}))
            self.final_text = str(event.get("text", "")) or self.final_text
        elif kind == "result":
            self._result = event

    def running_usage(self) -> Usage:
        """The recorded turns' tokens so far."""
        return self._usage

    def result(self, reason: StopReason, exit_code: int | None, duration_ms: int, redactor: Redactor) -> RunResult:
        """The replay's result: the recorded usage, priced as the recorded model (unpriced without one)."""
        final = self._result or {}
        return RunResult(
            provider=self.provider, model=self.model, session_id=self.session_id, turns=self.turns,
            usage=self._usage, duration_ms=duration_ms,
            cost_usd=self.prices.cost_usd(self.price_provider, self.model, self._usage), provider_cost_usd=None,
            price_source=self.prices.source,
            is_error=bool(final.get("is_error", True)) or reason is not StopReason.COMPLETED or exit_code != 0,
            stop_reason=reason, exit_code=exit_code, final_text=redactor(str(final.get("text") or self.final_text)),
            resumed=self.resumed)
