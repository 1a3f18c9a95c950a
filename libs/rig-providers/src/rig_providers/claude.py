"""Claude Code (`claude -p --output-format stream-json --verbose`, the prompt on stdin) as a provider.

A read-only run (Review-E) gets `--tools ""`: the model is offered no tool at all.

Billing a resumed session: the final `result` line's `total_cost_usd` and `modelUsage` add up the whole
session, earlier runs included, while its `usage` and `model_usage_since_last_result` cover only this run. So
this run's tokens come from `usage`, our cost from the per-model tokens of `model_usage_since_last_result`,
and the provider's own figure for it is the sum of that field's per-model `costUSD` (the CLI's own price of
this run's part). A fresh run without that field is billed at `total_cost_usd`; a resumed one without it has
no provider figure (None) rather than the session's total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rig_contracts.payloads import Usage
from rig_providers.model import RunRequest, RunResult, StopReason, add_usage
from rig_providers.parsing import StreamParser, as_int, json_object
from rig_providers.provider import Launch, Provider, ProviderConfigError, base_env
from rig_providers.redact import Redactor
from rig_providers.sandbox import install_root

AUTH_VARIABLES = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")


@dataclass(frozen=True, slots=True)
class ClaudeOptions:
    """How Claude Code runs: the binary, its permission mode and allowed tools, where it keeps sessions.

    `config_dir` (CLAUDE_CONFIG_DIR) holds the session files `--resume` needs: keep it per agent pool.
    `skip_permissions` passes `--dangerously-skip-permissions` (and IS_SANDBOX=1, without which root is refused)
    for a sandboxed container; otherwise `permission_mode` and `allowed_tools` decide what runs unasked.
    """

    executable: str = "claude"
    permission_mode: str = "acceptEdits"
    allowed_tools: Sequence[str] = ("Bash", "Read", "Edit", "Write", "Glob", "Grep")
    skip_permissions: bool = False
    config_dir: Path | None = None
    base_url: str | None = None
    extra_args: Sequence[str] = ()


class ClaudeProvider(Provider):
    """Runs Claude Code non-interactively; auth by ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in the secrets."""

    name = "claude"

    def __init__(self, options: ClaudeOptions | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = options or ClaudeOptions()

    async def launch(self, request: RunRequest) -> Launch:
        """The `claude -p` command for `request` (`--resume` with its session id)."""
        if not any(request.secrets.get(name) for name in AUTH_VARIABLES):
            raise ProviderConfigError(f"claude needs one of {', '.join(AUTH_VARIABLES)} among the run's secrets")
        o = self.options
        # `-p` with no prompt argument reads the prompt from stdin (Provider.run feeds it there).
        argv = [o.executable, "-p", "--output-format", "stream-json", "--verbose"]
        extra = {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
        if request.read_only:
            argv += ["--tools", ""]  # no built-in tool is even offered to the model
        elif o.skip_permissions:
            argv.append("--dangerously-skip-permissions")
            extra["IS_SANDBOX"] = "1"
        else:
            argv += ["--permission-mode", o.permission_mode, "--allowedTools", ",".join(o.allowed_tools)]
        if request.model:
            argv += ["--model", request.model]
        if request.session_id:
            argv += ["--resume", request.session_id]
        elif request.limits.max_cost_usd is not None:
            # Its own stop at the run's allowance (a resumed session's figure includes earlier runs: there only our
            # estimate of this run's part stops it, in rig_providers.process).
            argv += ["--max-budget-usd", f"{request.limits.max_cost_usd:.4f}"]
        argv += list(o.extra_args)
        if o.config_dir is not None:
            o.config_dir.mkdir(parents=True, exist_ok=True)
            extra["CLAUDE_CONFIG_DIR"] = str(o.config_dir)
        if o.base_url:
            extra["ANTHROPIC_BASE_URL"] = o.base_url
        parser = ClaudeStream(self.prices, request.model, resumed=request.session_id is not None)
        env = base_env(request, **extra)
        return Launch(argv, env, parser, writable=[o.config_dir] if o.config_dir is not None else [],
                      readable=install_root(o.executable, env.get("PATH")))


class ClaudeStream(StreamParser):
    """Reads Claude Code's stream-json: `system/init`, one `assistant` line per content block, then `result`."""

    provider = "claude"
    price_provider = "anthropic"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._messages: dict[str, Usage] = {}
        self._result: dict[str, Any] | None = None

    def feed(self, line: str) -> None:
        """Take one stream-json line."""
        event = json_object(line)
        if event is None:
            return
        self.session_id = event.get("session_id") or self.session_id
        kind = event.get("type")
        if kind == "system" and event.get("subtype") == "init":
            self.model = self.model or event.get("model")
        elif kind == "assistant":
            self._assistant(event.get("message") or {})
        elif kind == "result":
            self._result = event

    def _assistant(self, message: Mapping[str, Any]) -> None:
        # Each content block comes as its own line with the same message id: one model turn per id.
        message_id = str(message.get("id", len(self._messages)))
        seen = self._messages.get(message_id)
        usage = _usage(message.get("usage") or {})
        if seen is None:
            self.turns += 1
        elif seen.output_tokens > usage.output_tokens:
            usage = seen
        self._messages[message_id] = usage
        text = [block.get("text", "") for block in message.get("content", []) if block.get("type") == "text"]
        if any(text):
            self.final_text = "".join(text)

    def running_usage(self) -> Usage:
        """Tokens of the turns so far (the CLI prints each turn's starting usage: output is undercounted)."""
        total = Usage()
        for usage in self._messages.values():
            total = add_usage(total, usage)
        return total

    def result(self, reason: StopReason, exit_code: int | None, duration_ms: int, redactor: Redactor) -> RunResult:
        """The run's result, from the final `result` line where there is one, else from what was seen."""
        final = self._result or {}
        since_last = final.get("model_usage_since_last_result")
        per_model: Mapping[str, Any] | None = since_last if isinstance(since_last, dict) else None
        if per_model is None and not self.resumed and isinstance(final.get("modelUsage"), dict):
            per_model = final["modelUsage"]
        usage = _usage(final["usage"]) if isinstance(final.get("usage"), dict) else self.running_usage()
        model = next(iter(per_model), self.model) if per_model else self.model
        return RunResult(
            provider=self.provider, model=model, session_id=self.session_id,
            turns=as_int(final.get("num_turns")) or self.turns, usage=usage, duration_ms=duration_ms,
            cost_usd=self._our_cost(per_model, model, usage), provider_cost_usd=self._their_cost(final, per_model),
            price_source=self.prices.source,
            is_error=bool(final.get("is_error", True)) or reason is not StopReason.COMPLETED or exit_code != 0,
            stop_reason=reason, exit_code=exit_code, final_text=redactor(str(final.get("result", self.final_text))),
            permission_denials=tuple(final.get("permission_denials") or ()), resumed=self.resumed,
            duration_api_ms=0 if self.resumed else as_int(final.get("duration_api_ms")))

    def _our_cost(self, per_model: Mapping[str, Any] | None, model: str | None, usage: Usage) -> Decimal | None:
        if not per_model:
            return self.prices.cost_usd(self.price_provider, model, usage)
        total = Decimal(0)
        for name, figures in per_model.items():
            cost = self.prices.cost_usd(self.price_provider, name, _model_usage(figures))
            if cost is None:
                return None  # one unpriced model leaves the run unpriced, never cheaper than it was
            total += cost
        return total

    def _their_cost(self, final: Mapping[str, Any], per_model: Mapping[str, Any] | None) -> Decimal | None:
        if isinstance(final.get("model_usage_since_last_result"), dict) and per_model:
            return sum((Decimal(str(f.get("costUSD", 0))) for f in per_model.values()), Decimal(0))
        if self.resumed or "total_cost_usd" not in final:
            return None
        return Decimal(str(final["total_cost_usd"]))


def _usage(raw: Mapping[str, Any]) -> Usage:
    """Anthropic's usage: cache tokens are already beside input_tokens, never inside it."""
    return Usage(input_tokens=as_int(raw.get("input_tokens")), output_tokens=as_int(raw.get("output_tokens")),
                 cache_read_tokens=as_int(raw.get("cache_read_input_tokens")),
                 cache_write_tokens=as_int(raw.get("cache_creation_input_tokens")))


def _model_usage(raw: Mapping[str, Any]) -> Usage:
    """One model's figures in `modelUsage` / `model_usage_since_last_result` (camelCase)."""
    return Usage(input_tokens=as_int(raw.get("inputTokens")), output_tokens=as_int(raw.get("outputTokens")),
                 cache_read_tokens=as_int(raw.get("cacheReadInputTokens")),
                 cache_write_tokens=as_int(raw.get("cacheCreationInputTokens")))
