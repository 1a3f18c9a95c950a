"""Codex (`codex exec --json …`, `codex exec resume <thread> …`) as a provider.

Codex counts cached tokens inside `input_tokens` (OpenAI's convention) and reports no cost: we split the
input into four separate buckets and price them ourselves. Its `turn.completed` usage adds up the whole
thread, so a resumed run is billed for the difference between that total and the thread's total before the
run, read from the thread's rollout file in CODEX_HOME (its `token_count` events) before the run starts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig_contracts.payloads import Usage
from rig_providers.model import RunRequest, RunResult, StopReason, subtract_usage
from rig_providers.parsing import StreamParser, as_int, json_object
from rig_providers.provider import Launch, Provider, ProviderConfigError, base_env
from rig_providers.redact import Redactor
from rig_providers.sandbox import install_root

# Items that each stand for one model reply (a tool call it asked for, or its message).
TURN_ITEMS = frozenset({"command_execution", "file_change", "mcp_tool_call", "web_search", "agent_message"})


@dataclass(frozen=True, slots=True)
class CodexOptions:
    """How Codex runs: the binary, its home (config and session files: keep it per agent pool), its API.

    `base_url` points a custom Responses-API provider at another server (OPENAI_BASE_URL is ignored by
    Codex); None keeps Codex's own OpenAI provider. Codex keeps its own sandbox (`--sandbox workspace-write`:
    the model's commands write only the workspace) inside ours; `bypass_sandbox` turns it off, for a container
    whose own sandbox cannot nest one.
    """

    codex_home: Path
    executable: str = "codex"
    base_url: str | None = None
    bypass_sandbox: bool = False
    extra_args: Sequence[str] = ()


class CodexProvider(Provider):
    """Runs `codex exec --json`; auth by OPENAI_API_KEY in the run's secrets."""

    name = "codex"

    def __init__(self, options: CodexOptions, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = options

    async def launch(self, request: RunRequest) -> Launch:
        """Write CODEX_HOME's config, then the `codex exec` command for `request`."""
        if not request.secrets.get("OPENAI_API_KEY"):
            raise ProviderConfigError("codex needs OPENAI_API_KEY among the run's secrets")
        o = self.options
        o.codex_home.mkdir(parents=True, exist_ok=True)
        (o.codex_home / "config.toml").write_text(config_toml(o.base_url))
        argv = [o.executable, "exec", "--json"]
        if request.read_only:
            argv += ["--sandbox", "read-only"]  # a review only reads: never the bypass, whatever the options say
        elif o.bypass_sandbox:
            argv.append("--dangerously-bypass-approvals-and-sandbox")
        else:
            argv += ["--sandbox", "workspace-write"]
        if request.model:
            argv += ["--model", request.model]
        argv += list(o.extra_args)
        baseline = Usage()
        if request.session_id:
            argv += ["resume", request.session_id]
            baseline = thread_state(o.codex_home, request.session_id).totals
        argv.append("-")  # the prompt comes on stdin (Provider.run feeds it there), never as an argument
        parser = CodexStream(self.prices, request.model, resumed=request.session_id is not None, baseline=baseline,
                             codex_home=o.codex_home)
        env = base_env(request, CODEX_HOME=str(o.codex_home))
        return Launch(argv, env, parser, writable=[o.codex_home], readable=install_root(o.executable, env.get("PATH")))


def config_toml(base_url: str | None) -> str:
    """CODEX_HOME/config.toml: no update checks, analytics, telemetry or plugin look-ups; our API if given."""
    lines = ["check_for_update_on_startup = false"]
    if base_url:
        lines.insert(0, 'model_provider = "rig"')
        lines += ["", "[model_providers.rig]", 'name = "rig"', f"base_url = {json.dumps(base_url)}",
                  'env_key = "OPENAI_API_KEY"', 'wire_api = "responses"', "supports_websockets = false",
                  "request_max_retries = 0", "stream_max_retries = 0"]
    lines += ["", "[analytics]", "enabled = false", "", "[otel]", 'exporter = "none"', "",
              "[features]", "plugins = false", ""]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What a thread's rollout file says: its token totals so far and the model of its latest turn."""

    totals: Usage
    model: str | None


def thread_state(codex_home: Path, thread_id: str) -> ThreadState:
    """The thread's last `token_count` totals and `turn_context` model; zero and None if there is no file."""
    rollout = find_rollout(codex_home, thread_id)
    return read_rollout(rollout) if rollout else ThreadState(Usage(), None)


def find_rollout(codex_home: Path, thread_id: str) -> Path | None:
    """The thread's rollout file (Codex files them by date under sessions/), if there is one."""
    return next(iter(sorted((codex_home / "sessions").rglob(f"rollout-*{thread_id}.jsonl"))), None)


def read_rollout(rollout: Path) -> ThreadState:
    """The last token totals and model a rollout file records."""
    totals: Mapping[str, Any] = {}
    model: str | None = None
    with rollout.open() as lines:
        for line in lines:
            if '"total_token_usage"' not in line and '"turn_context"' not in line:
                continue
            record = json_object(line) or {}
            payload = record.get("payload") or {}
            info = payload.get("info") or {}
            totals = info.get("total_token_usage") or totals
            if record.get("type") == "turn_context":
                model = payload.get("model") or model
    return ThreadState(normalised(totals), model)


def normalised(raw: Mapping[str, Any]) -> Usage:
    """OpenAI's usage in four separate buckets: cached and cache-written tokens taken out of the input."""
    cached = as_int(raw.get("cached_input_tokens"))
    written = as_int(raw.get("cache_write_input_tokens"))
    return Usage(input_tokens=max(0, as_int(raw.get("input_tokens")) - cached - written),
                 output_tokens=as_int(raw.get("output_tokens")), cache_read_tokens=cached, cache_write_tokens=written)


class CodexStream(StreamParser):
    """Reads `codex exec --json`: thread.started, item.started/completed, turn.completed with usage."""

    provider = "codex"
    price_provider = "openai"

    def __init__(self, *args: Any, baseline: Usage, codex_home: Path, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.baseline = baseline
        self.codex_home = codex_home
        self._totals: Usage | None = None
        self._errors: list[str] = []
        self._rollout: Path | None = None

    def feed(self, line: str) -> None:
        """Take one JSON line."""
        event = json_object(line)
        if event is None:
            return
        kind = event.get("type")
        if kind == "thread.started":
            self.session_id = event.get("thread_id")
        elif kind == "item.completed":
            self._item(event.get("item") or {})
        elif kind == "turn.completed":
            self._totals = normalised(event.get("usage") or {})
        elif kind in {"turn.failed", "error"}:
            self._errors.append(str(event.get("error") or event.get("message") or kind))

    def _item(self, item: Mapping[str, Any]) -> None:
        kind = item.get("type")
        if kind in TURN_ITEMS:
            self.turns += 1
        if kind == "agent_message":
            self.final_text = str(item.get("text", ""))
        elif kind == "error":
            self._errors.append(str(item.get("message", "error")))

    def running_usage(self) -> Usage:
        """The tokens of this run so far.

        Codex prints them only when the turn completes; until then (for a cost limit, or a run stopped early)
        its rollout file has the totals of every request so far.
        """
        if self._totals is not None:
            return subtract_usage(self._totals, self.baseline)
        if self.session_id and self._rollout is None:
            self._rollout = find_rollout(self.codex_home, self.session_id)
        if self._rollout is None:
            return Usage()
        return subtract_usage(read_rollout(self._rollout).totals, self.baseline)

    def result(self, reason: StopReason, exit_code: int | None, duration_ms: int, redactor: Redactor) -> RunResult:
        """The run's result, billed for this run's part of the thread."""
        usage = self.running_usage()
        if self.model is None and self.session_id:
            # Codex does not print the model it chose by default; its rollout file records it.
            self.model = thread_state(self.codex_home, self.session_id).model
        return RunResult(
            provider=self.provider, model=self.model, session_id=self.session_id, turns=self.turns, usage=usage,
            duration_ms=duration_ms, cost_usd=self.prices.cost_usd(self.price_provider, self.model, usage),
            provider_cost_usd=None, price_source=self.prices.source,
            is_error=bool(self._errors) or self._totals is None or reason is not StopReason.COMPLETED
            or exit_code != 0,
            stop_reason=reason, exit_code=exit_code, final_text=redactor(self.final_text), resumed=self.resumed)
