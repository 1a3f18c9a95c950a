r"""The recorded transcript a scripted run replays: one JSON object per line.

    {"kind": "meta", "model": "claude-sonnet-4-5", "price_provider": "anthropic"}
    {"kind": "line", "text": "Reading the issue"}
    {"kind": "turn", "text": "I will add the file.", "usage": {"input_tokens": 900, "output_tokens": 40}}
    {"kind": "patch", "diff": "diff --git a/hello.txt b/hello.txt\\n..."}
    {"kind": "wait", "seconds": 0.2}
    {"kind": "result", "text": "Added hello.txt."}

`turn` entries are the model's turns (their usage adds up to the run's); `patch` is applied with `git apply`
in the working directory; `meta` names the model whose prices make the API-equivalent cost (none: unpriced).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from rig_contracts.payloads import Usage


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Meta(_Entry):
    """Which model the recording stands for, and whose prices apply."""

    kind: Literal["meta"]
    model: str | None = None
    price_provider: Literal["anthropic", "openai"] = "anthropic"


class Line(_Entry):
    """A line of output, printed as it is."""

    kind: Literal["line"]
    text: str


class Turn(_Entry):
    """One model turn: what it said and the tokens it took."""

    kind: Literal["turn"]
    text: str = ""
    usage: Usage = Field(default_factory=Usage)


class Patch(_Entry):
    """A unified diff to apply in the working directory (`git apply`)."""

    kind: Literal["patch"]
    diff: str


class Wait(_Entry):
    """A pause, as a model takes time to answer."""

    kind: Literal["wait"]
    seconds: float = Field(ge=0)


class Result(_Entry):
    """The run's final text."""

    kind: Literal["result"]
    text: str = ""


Entry = Annotated[Meta | Line | Turn | Patch | Wait | Result, Field(discriminator="kind")]
_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)


def read_transcript(path: Path) -> list[Entry]:
    """The transcript's entries; a malformed line raises ValueError naming the file and line."""
    entries: list[Entry] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(_ENTRY.validate_json(line))
        except ValueError as error:
            raise ValueError(f"{path}:{number}: not a transcript entry: {error}") from error
    return entries
