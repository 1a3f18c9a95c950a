"""Helpers of the provider tests: run to the end, a git repository to work in, processes left behind."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from rig_providers import OutputLine, Provider, RunRequest, RunResult
from rig_testing.model_script import Step, Tokens


async def run_to_end(provider: Provider, request: RunRequest) -> tuple[list[OutputLine], RunResult]:
    """Every line the run yields and its result."""
    lines: list[OutputLine] = []
    results: list[RunResult] = []
    async for event in provider.run(request):
        (lines if isinstance(event, OutputLine) else results).append(event)  # type: ignore[arg-type]
    assert len(results) == 1, "a run ends with exactly one result"
    return lines, results[0]


def git_repo(path: Path) -> Path:
    """An empty git repository with one commit."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / "README.md").write_text("# demo\n")
    subprocess.run(["git", "-C", str(path), "add", "."], check=True)
    subprocess.run(["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q",
                    "-m", "start"], check=True)
    return path


def json_lines(lines: list[OutputLine], kind: str) -> list[dict[str, Any]]:
    """The yielded stdout lines that are JSON objects of this `type`."""
    found = []
    for line in lines:
        if line.stream == "stdout" and line.text.startswith("{"):
            event = json.loads(line.text)
            if event.get("type") == kind:
                found.append(event)
    return found


def script_tokens(script: list[Step]) -> Tokens:
    """What the whole script reports, bucket by bucket."""
    return Tokens(input=sum(s.tokens.input for s in script), output=sum(s.tokens.output for s in script),
                  cache_read=sum(s.tokens.cache_read for s in script),
                  cache_write=sum(s.tokens.cache_write for s in script))


def processes_in(directory: Path) -> list[str]:
    """Live processes whose working directory is inside `directory` (what a stopped run must not leave)."""
    found = []
    for process in psutil.process_iter(["cwd", "cmdline", "status"]):
        cwd = process.info["cwd"] or ""
        if cwd.startswith(str(directory)) and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(" ".join(process.info["cmdline"] or []))
    return found


async def run_watching(provider: Provider, request: RunRequest, directory: Path) -> tuple[RunResult, list[str]]:
    """Run to the end, noting the command lines running in `directory` every 0.2 s meanwhile."""
    seen: list[str] = []

    async def watch() -> None:
        while True:
            seen.extend(processes_in(directory))
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch())
    try:
        _, result = await run_to_end(provider, request)
    finally:
        watcher.cancel()
    return result, seen
