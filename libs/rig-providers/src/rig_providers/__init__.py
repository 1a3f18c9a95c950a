"""Coding-agent providers behind one async interface, each a real subprocess.

`Provider.run(RunRequest(...))` yields the CLI's output lines (secrets redacted) and ends with a `RunResult`:
turns, tokens in four buckets, duration, the provider's own cost figure and ours (both API-equivalent), billed
for the run's own part of a resumed session. Providers: `ClaudeProvider` (Claude Code), `CodexProvider`
(Codex) and `ScriptedProvider` (a recorded transcript and patch, for fast tests and the demo).
"""

from rig_providers.claude import ClaudeOptions, ClaudeProvider
from rig_providers.codex import CodexOptions, CodexProvider
from rig_providers.model import COST_BASIS, Limits, OutputLine, ProviderEvent, RunRequest, RunResult, StopReason
from rig_providers.prices import PriceTable
from rig_providers.provider import Provider, ProviderConfigError
from rig_providers.scripted import ScriptedProvider

__all__ = [
    "COST_BASIS",
    "ClaudeOptions",
    "ClaudeProvider",
    "CodexOptions",
    "CodexProvider",
    "Limits",
    "OutputLine",
    "PriceTable",
    "Provider",
    "ProviderConfigError",
    "ProviderEvent",
    "RunRequest",
    "RunResult",
    "ScriptedProvider",
    "StopReason",
]
