"""What a scripted model says, step by step, with the token counts it reports: shared by the API fakes.

A step answers one model request: `Shell` asks the CLI to run a command (its shell tool), `Say` ends the
turn with text. Which step answers a request is the number of model replies since the user's latest prompt,
so a resumed session replays the script from its first step for the new prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Tokens:
    """Token counts one model reply reports, in four separate buckets (the fakes convert to each API's shape)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0


@dataclass(frozen=True, slots=True)
class Shell:
    """Ask the CLI to run `command` with its shell tool."""

    command: str
    tokens: Tokens = field(default_factory=lambda: Tokens(input=1200, output=40, cache_read=3000, cache_write=500))


@dataclass(frozen=True, slots=True)
class Say:
    """End the turn with `text`."""

    text: str
    tokens: Tokens = field(default_factory=lambda: Tokens(input=300, output=25, cache_read=4200, cache_write=100))


Step = Shell | Say
