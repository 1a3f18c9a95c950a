"""`python -m rig_providers.scripted TRANSCRIPT [--session ID] [--no-tools] < PROMPT`: replay a recorded run.

Reads the prompt from stdin (and reports its size and hash on the session line), as the real CLIs get theirs.

Prints one JSON line per entry (the scripted provider's stream), sleeps where the recording waited and
applies its patches with `git apply`; a patch that does not apply ends the run with exit code 2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from rig_providers.scripted.transcript import Line, Meta, Patch, Result, Turn, Wait, read_transcript


def _emit(event: dict[str, object]) -> None:
    print(json.dumps(event), flush=True)


def main(argv: list[str] | None = None) -> int:
    """Replay the transcript; the exit code says whether every patch applied."""
    parser = argparse.ArgumentParser(prog="python -m rig_providers.scripted")
    parser.add_argument("transcript", type=Path)
    parser.add_argument("--session", default=None, help="the session to continue (a resumed run keeps its id)")
    parser.add_argument("--no-tools", action="store_true", help="a read-only run: a recorded patch is refused")
    args = parser.parse_args(argv)
    entries = read_transcript(args.transcript)
    meta = next((e for e in entries if isinstance(e, Meta)), Meta(kind="meta"))
    # The prompt comes on stdin, as to the real CLIs: read it all, and say how much arrived.
    prompt = sys.stdin.buffer.read()
    _emit({"type": "session", "session_id": args.session or str(uuid.uuid4()), "model": meta.model,
           "price_provider": meta.price_provider, "prompt_bytes": len(prompt),
           "prompt_sha256": hashlib.sha256(prompt).hexdigest(), "tools": not args.no_tools})
    for entry in entries:
        if isinstance(entry, Line):
            print(entry.text, flush=True)
        elif isinstance(entry, Turn):
            _emit({"type": "turn", "text": entry.text, "usage": entry.usage.model_dump()})
        elif isinstance(entry, Wait):
            time.sleep(entry.seconds)
        elif isinstance(entry, Patch) and args.no_tools:
            _emit({"type": "result", "is_error": True, "text": "the recording edits files, and this run has no tools"})
            return 2
        elif isinstance(entry, Patch):
            # git from PATH, as the coding CLIs find it.
            applied = subprocess.run(["git", "apply", "--whitespace=nowarn", "-"],  # noqa: S607
                                     input=entry.diff.encode(),
                                     capture_output=True, check=False)
            if applied.returncode != 0:
                print(f"git apply failed: {applied.stderr.decode(errors='replace').strip()}", file=sys.stderr)
                _emit({"type": "result", "is_error": True, "text": "the recorded patch does not apply"})
                return 2
            _emit({"type": "patch", "applied": True})
        elif isinstance(entry, Result):
            _emit({"type": "result", "is_error": False, "text": entry.text})
    return 0


if __name__ == "__main__":
    sys.exit(main())
