"""The published JSON Schema of `.rig-agent.yaml` (docs/design.md section 6): the one the router validates against.

Run `python -m rig_router.config_schema` to write `docs/rig-agent.schema.json`, or add `--check` to exit 1
when the committed file differs from this definition.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STACKS = ("node", "dotnet", "python", "ios", "base")
"""The stacks an agent pool exists for (`ios` goes to ibuild-e)."""

DOC_NAME = "rig-agent.schema.json"
"""The file written in the repository's `docs/` folder."""

_COUNT = {"type": "integer", "minimum": 1, "maximum": 20}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://rig-conductor.dev/schemas/rig-agent.schema.json",
    "title": ".rig-agent.yaml",
    "description": "How rig-conductor's agents work on a repository; read from its default branch.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "stack": {"enum": list(STACKS), "default": "base",
                  "description": "Which dev agent pool works on the repository; ios goes to ibuild-e."},
        "tools": {"type": "array", "items": {"type": "string", "minLength": 1, "pattern": "^[^,]+$"},
                  "description": "Extra tools the agent installs (no commas in a name)."},
        "testCommand": {"type": "string", "description": "How the agent runs the tests."},
        "buildCommand": {"type": "string", "description": "How the agent builds the project."},
        "escalate": {"type": "array", "items": {"type": "string", "minLength": 1},
                     "description": "Phrases matched against an issue's title, body and labels; a match escalates "
                                    "to people, or to ibuild-e when the entry contains `requires-macos`."},
        "maxReviewRounds": {**_COUNT, "default": 3,
                            "description": "Disputed reviews after which the item escalates."},
        "maxFixAttempts": {**_COUNT, "default": 3,
                           "description": "Fixes after failed checks or conflicts before the item escalates."},
        "budget": {
            "type": "object", "additionalProperties": False,
            "properties": {"perIssueUsd": {"type": "number", "exclusiveMinimum": 0},
                           "perDayUsd": {"type": "number", "exclusiveMinimum": 0}},
            "description": "Spending limits in US dollars.",
        },
    },
}
"""The schema itself (JSON Schema 2020-12)."""


def document() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(SCHEMA, indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with `--check`, verify) `docs/rig-agent.schema.json`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file is out of date")
    parser.add_argument("--docs", type=Path, default=Path("docs"), help="the repository's docs folder")
    args = parser.parse_args(argv)
    path: Path = args.docs / DOC_NAME
    if args.check:
        if not path.is_file() or path.read_text() != document():
            print(f"{path} is out of date: run `python -m rig_router.config_schema`", file=sys.stderr)
            return 1
        return 0
    path.write_text(document())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
